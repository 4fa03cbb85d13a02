"""Restoring into SQLite: the archive loaded into a new database beside the target, checked
there, then renamed over it, so that the target changes all at once or not at all."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
from typing import Any

from forum.durable import sync_folder
from forum.ops.backup import BackupError, Progress
from forum.ops.restore import open_archive, read_manifest, restore
from forum.store.sqlite import FILES_FOLDER, SqliteStore

log = logging.getLogger("forum.ops.backup")  # one logger for backup and restore (commands.py)

RESTORE_PREFIX = ".restore-"  # the work folder, beside the target database
RESTORE_DB = "restoring.db"  # the database loaded there; gone once it is the target
RESTORE_LOCK = "lock"  # held (flock) while the restore runs
RESTORE_MOVED = "moved.json"  # attachment files moved into the target's files/ folder


async def restore_sqlite(
    target: str,
    path: str | os.PathLike[str],
    progress: Progress | None = None,
    *,
    force: bool = False,
) -> dict[str, Any]:
    """restore() into the SQLite database at `target`, so that it changes all at once or not at
    all: the archive is loaded into a new database in a hidden work folder beside it
    (.restore-XXXX/restoring.db, with its own files/ folder), checked there, and only then
    renamed over `target` (one rename, atomic). Before that rename the attachments' files move
    into the target's files/ folder under their own ids, which no row of the old database names
    (the work folder lists them); after it, the old database's files, which no row names any
    more, are removed.

    A restore that fails leaves the target as it was and removes its work folder (and the
    target's folder when it made it): a refused restore into a new path leaves no file. A
    restore killed outright cannot clean up after itself: its work folder stays, unused, until
    the next restore into that folder removes it, and the files it had moved with it (the
    work folder's lock tells a dead restore from a running one).

    The server must not be running on `target`: one that is would go on with the old file. A
    target whose -wal file is still there after this process closed it is refused as in use."""
    target = os.path.abspath(target)
    folder = os.path.dirname(target)
    made_folder = not os.path.isdir(folder)
    if not made_folder:
        recover_restores(folder)
    with open_archive(path) as archive:  # a file that is no archive says so first
        read_manifest(archive)
    if os.path.exists(target):
        existing = SqliteStore(target)
        await existing.open()
        try:
            if not force and not await existing.is_empty():
                raise BackupError(
                    "the target database is not empty; restore loads into an "
                    "empty one only. --force replaces it (everything in it is "
                    "lost)"
                )
        finally:
            await existing.close()
        if os.path.exists(target + "-wal"):
            raise BackupError(
                f"{target} is in use by another process (its -wal file is "
                f"there): stop the server before restoring"
            )
    os.makedirs(folder, exist_ok=True)
    work = tempfile.mkdtemp(dir=folder, prefix=RESTORE_PREFIX)
    lock = _lock(work)
    try:
        loading = SqliteStore(os.path.join(work, RESTORE_DB))
        await loading.open()
        try:
            manifest = await restore(loading, path, progress)
        finally:
            await loading.close()
        await asyncio.to_thread(_switch, work, target)
    except BaseException:
        _abandon(work, folder)
        if made_folder:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        os.close(lock)
    shutil.rmtree(work, ignore_errors=True)
    return manifest


def _lock(work: str) -> int:
    descriptor = os.open(os.path.join(work, RESTORE_LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


def _switch(work: str, target: str) -> None:
    """Move the attachments' files into place, then rename the loaded database over the target,
    then remove the files only the old database named."""
    folder = os.path.dirname(target)
    files, loaded = os.path.join(folder, FILES_FOLDER), os.path.join(work, FILES_FOLDER)
    names = sorted(os.listdir(loaded)) if os.path.isdir(loaded) else []
    os.makedirs(files, exist_ok=True)
    present = set(os.listdir(files))
    moving = [name for name in names if name not in present]
    with open(os.path.join(work, RESTORE_MOVED), "w") as listing:
        json.dump(moving, listing)
        listing.flush()
        os.fsync(listing.fileno())
    for name in moving:
        os.replace(os.path.join(loaded, name), os.path.join(files, name))
    sync_folder(files)
    os.replace(os.path.join(work, RESTORE_DB), target)  # the restore takes effect here
    sync_folder(folder)
    for name in names:  # the same id in both: the archive's bytes, in case they differ
        if name in present:
            os.replace(os.path.join(loaded, name), os.path.join(files, name))
    keep = set(names)
    for name in os.listdir(files):
        if name not in keep:
            os.remove(os.path.join(files, name))
    sync_folder(files)


def _abandon(work: str, folder: str) -> None:
    """Undo what an unfinished restore's work folder did to `folder`, and remove it: the files
    it moved into files/ when its database never took the target's place."""
    if os.path.exists(os.path.join(work, RESTORE_DB)):
        with contextlib.suppress(OSError, ValueError):
            with open(os.path.join(work, RESTORE_MOVED)) as listing:
                for name in json.load(listing):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(os.path.join(folder, FILES_FOLDER, os.path.basename(name)))
    shutil.rmtree(work, ignore_errors=True)


def recover_restores(folder: str) -> None:
    """Clear away the work folders of restores into `folder` that were killed (whose lock no
    process holds), with what they had done; a running restore's is left alone."""
    for name in os.listdir(folder):
        work = os.path.join(folder, name)
        if not name.startswith(RESTORE_PREFIX) or not os.path.isdir(work):
            continue
        try:
            descriptor = os.open(os.path.join(work, RESTORE_LOCK), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # running
        finally:
            os.close(descriptor)
        log.warning("removing %s, left by a restore that did not finish", work)
        _abandon(work, folder)
