"""Backup and restore: every record of a store and every attachment, in one portable archive.

    python server.py backup PATH [--db URL]
    python server.py restore PATH [--db URL] [--force]

The archive is a ZIP file:

    manifest.json            format and version, when, from which store, the record fields of
                             each kind, and per kind its count and the SHA-256 of its records file,
                             per attachment its size and SHA-256
    records/<kind>.jsonl     one record a line (plain JSON, datetimes as ISO 8601 UTC strings), in
                             the order of Store.export_records: by kind, then by id
    attachments/<id>         the bytes of each attachment

ZIP rather than .tar.gz: its central directory lists every member, so the manifest is read first
without decompressing the rest, and each member is read on its own (a tar.gz is one compressed
stream, read from the start to reach anything); a truncated ZIP loses its directory, which is at
the end, and fails to open at once; every member carries a CRC-32 besides the manifest's SHA-256;
photos and PDFs, compressed already, are stored as they are while the records are deflated; and
every operating system opens one without extra tools (zipfile is in the standard library).

Records are the store's own, portable between SQLite and MongoDB (ids are 24-hex strings in
both), so a restore into the other kind of store is the way from SQLite to MongoDB. Left out
(see store.base.TRANSIENT_KINDS): sessions (logins and e-mail confirmation links: people sign in
again) and rate-limit hits, both short-lived, and the search index (restore rebuilds it).

A restore checks the whole archive (manifest, counts, checksums, every record readable as its
kind, every attachment's bytes) before it writes anything, so a truncated, altered or foreign file
leaves the target as it was. It loads into an empty target only (one holding nothing but the
departments and boards every start seeds); `force` wipes a target that is not empty first
(everything: records, logins, attachments), in either kind of store, but still only after the
archive has passed every check. After loading it rebuilds the search index, then reads the target
back and compares counts and checksums with the manifest.

No Tornado here: the command line (server.py) calls backup_command and restore_command.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import zipfile
import zlib
from typing import IO, Any, Awaitable, Callable, Iterator

from forum import search
from forum.clock import now
from forum.durable import sync_folder
from forum.errors import DomainError
from forum.model import Attachment, is_id, iso
from forum.services import notify, recovery, searching
from forum.store import open_store
from forum.store.base import RECORD_KINDS, TRANSIENT_KINDS, Store, record_key
from forum.store.codec import from_plain
from forum.store.sqlite import FILES_FOLDER, SqliteStore

FORMAT = "yuxi-forum-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 500
READ_CHUNK = 1 << 20

log = logging.getLogger("forum.ops.backup")

# progress(stage, done, total): total is None while it is not known.
Progress = Callable[[str, int, "int | None"], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message tells the operator why."""


def records_file(kind: str) -> str:
    return f"records/{kind}.jsonl"


def attachment_file(attachment_id: str) -> str:
    return f"attachments/{attachment_id}"


def record_line(record: dict[str, Any]) -> bytes:
    """One record as a line of the archive. Canonical (sorted keys, no spaces, datetimes as
    model.iso writes them), so that the same records make the same bytes in either store, and a
    restored store read back has the archive's checksums."""
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                       default=_json_value) + "\n").encode()


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def record_fields() -> dict[str, list[str]]:
    """The fields of each kind's records, as this version writes them: the schema an archive
    records in its manifest."""
    return {kind: [f.name for f in dataclasses.fields(cls)] for kind, cls in RECORD_KINDS.items()}


def _report(progress: Progress | None, stage: str, done: int, total: int | None) -> None:
    if progress is not None:
        progress(stage, done, total)


# backup --------------------------------------------------------------------------------------
class _RecordsWriter:
    """Writes one kind's records file into the archive, counting and hashing as it goes."""

    def __init__(self, archive: zipfile.ZipFile, kind: str):
        self.kind, self.count, self.hash = kind, 0, hashlib.sha256()
        # force_zip64: the size is not known ahead, and may pass 4 GiB.
        self._file = archive.open(_member(records_file(kind)), "w", force_zip64=True)

    def write(self, record: dict[str, Any]) -> None:
        line = record_line(record)
        self._file.write(line)
        self.hash.update(line)
        self.count += 1

    def close(self) -> dict[str, Any]:
        self._file.close()
        return {"file": records_file(self.kind), "count": self.count,
                "sha256": self.hash.hexdigest()}


def _member(name: str, compress_type: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
    info.compress_type = compress_type
    return info


async def backup(store: Store, path: str | os.PathLike[str],
                 progress: Progress | None = None) -> dict[str, Any]:
    """Write every record and attachment of `store` to a new archive at `path` (which must not
    exist); return its manifest. The records are read from one snapshot (see
    Store.export_records). The archive appears at `path` only once complete and on disk; until
    then it is a hidden temporary file beside it."""
    path = os.fspath(path)
    if os.path.lexists(path):
        raise BackupError(f"{path} exists already: choose a new name (a backup never "
                          f"overwrites a file)")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise BackupError(f"{folder} is not a folder")
    total = sum((await store.count_records()).values())  # for the progress bar only
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".backup-", suffix=".zip")
    os.close(descriptor)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            kinds, descriptions = await _write_records(store, archive, progress, total)
            attachments = await _write_attachments(store, archive, descriptions, progress)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": iso(now()),
                "source": {"store": store.kind},
                "schema": {"record_fields": record_fields()},
                "left_out": {kind: "transient" for kind in TRANSIENT_KINDS}
                | {"search index": "rebuilt by restore"},
                "records": kinds,
                "attachments": attachments,
            }
            archive.writestr(_member(MANIFEST),
                             json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
        _sync_file(temporary)
        os.replace(temporary, path)
        sync_folder(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    return manifest


async def _write_records(store: Store, archive: zipfile.ZipFile, progress: Progress | None,
                         total: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kinds: dict[str, Any] = {}
    descriptions: list[dict[str, Any]] = []
    writer: _RecordsWriter | None = None
    done = 0
    records = store.export_records()
    async with contextlib.aclosing(records):
        async for kind, record in records:
            done += 1
            _report(progress, "records", done, max(total, done))
            if kind == "mail" and _holds_a_live_secret(record):
                continue
            if writer is None or writer.kind != kind:
                if writer is not None:
                    kinds[writer.kind] = writer.close()
                writer = _RecordsWriter(archive, kind)
            writer.write(record)
            if kind == "attachments":
                descriptions.append(record)
    if writer is not None:
        kinds[writer.kind] = writer.close()
    for kind in RECORD_KINDS:  # a kind without records still has its (empty) file
        if kind not in kinds:
            kinds[kind] = _RecordsWriter(archive, kind).close()
    _report(progress, "records", done, done)
    return {kind: kinds[kind] for kind in RECORD_KINDS}, descriptions


# Mail whose body holds a one-use link in plain text: a password reset, an address to confirm.
SECRET_SUBJECTS = frozenset({recovery.RESET_SUBJECT, notify.CONFIRM_SUBJECT})


def _holds_a_live_secret(mail: dict[str, Any]) -> bool:
    """Mail with a one-use link, not yet sent: it stays out of archives (once sent, the outbox
    keeps no body: mailer.DONE_BODY). The link would not work after a restore anyway: the
    token's hash is a login, and logins are left out."""
    return mail.get("subject") in SECRET_SUBJECTS and mail.get("sent_at") is None


async def _write_attachments(store: Store, archive: zipfile.ZipFile,
                             descriptions: list[dict[str, Any]],
                             progress: Progress | None) -> dict[str, Any]:
    attachments: dict[str, Any] = {}
    _report(progress, "attachments", 0, len(descriptions))
    for done, description in enumerate(descriptions, 1):
        # An attachment's bytes never change once stored, so reading them after the snapshot
        # gives what the snapshot's description names.
        found = await store.get_attachment(description["id"])
        if found is None:
            raise BackupError(f"attachment {description['id']} is described but its bytes are "
                              f"missing from the store")
        data = found[1]
        digest = hashlib.sha256(data).hexdigest()
        if digest != description["sha256"] or len(data) != description["size"]:
            raise BackupError(f"the bytes of attachment {description['id']} do not match the "
                              f"checksum recorded when it was uploaded: the store's copy is "
                              f"damaged")
        # Stored, not deflated: JPEG, PNG and PDF are compressed already.
        archive.writestr(_member(attachment_file(description["id"]), zipfile.ZIP_STORED), data)
        attachments[description["id"]] = {"file": attachment_file(description["id"]),
                                          "size": len(data), "sha256": digest}
        _report(progress, "attachments", done, len(descriptions))
    return attachments


def _sync_file(path: str) -> None:
    with open(path, "rb") as file:
        os.fsync(file.fileno())


# reading an archive --------------------------------------------------------------------------
def open_archive(path: str | os.PathLike[str]) -> zipfile.ZipFile:
    """The archive at `path`; BackupError when there is none or it is no ZIP file (a truncated
    one is none: its directory, at the end, is gone)."""
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BackupError(f"{os.fspath(path)}: no such file") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BackupError(f"{os.fspath(path)} is not a backup archive: not a ZIP file, or "
                          f"truncated or damaged ({exc})") from None


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, checked for shape and version; BackupError for a foreign or newer file."""
    foreign = (f"{archive.filename} is not a backup made by `server.py backup`")
    try:
        raw = archive.read(MANIFEST)
    except KeyError:
        raise BackupError(f"{foreign}: it holds no {MANIFEST}") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise BackupError(f"{archive.filename}: {MANIFEST} is damaged ({exc})") from None
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BackupError(f"{foreign}: its {MANIFEST} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{foreign}: its {MANIFEST} is of another format")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise BackupError(f"{archive.filename}: {MANIFEST} has no valid format_version")
    if version > FORMAT_VERSION:
        raise BackupError(f"{archive.filename} was made by a newer version (archive format "
                          f"{version}; this one reads up to {FORMAT_VERSION}): restore it "
                          f"with that version or a later one")
    records, attachments = manifest.get("records"), manifest.get("attachments")
    if not isinstance(records, dict) or not isinstance(attachments, dict):
        raise BackupError(f"{archive.filename}: {MANIFEST} lists no records or attachments")
    unknown = sorted(set(records) - set(RECORD_KINDS))
    if unknown:
        raise BackupError(f"{archive.filename} holds records of kinds this version does not "
                          f"know ({', '.join(unknown)}): restore it with the version that made "
                          f"it or a later one")
    for kind, entry in records.items():
        if not (isinstance(entry, dict) and entry.get("file") == records_file(kind)
                and _is_count(entry.get("count")) and _is_digest(entry.get("sha256"))):
            raise BackupError(f"{archive.filename}: {MANIFEST} has no valid entry for {kind}")
    for attachment_id, entry in attachments.items():
        if not (is_id(attachment_id) and attachment_id == attachment_id.lower()
                and isinstance(entry, dict) and entry.get("file") == attachment_file(attachment_id)
                and _is_count(entry.get("size")) and _is_digest(entry.get("sha256"))):
            raise BackupError(f"{archive.filename}: {MANIFEST} has no valid entry for "
                              f"attachment {attachment_id!r}")
    return manifest


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_digest(value: Any) -> bool:
    return (isinstance(value, str) and len(value) == 64
            and all(char in "0123456789abcdef" for char in value))


def _lines(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    with archive.open(name) as file:
        yield from file


def _damaged(archive: zipfile.ZipFile, name: str, exc: BaseException) -> BackupError:
    return BackupError(f"{archive.filename}: {name} is damaged and cannot be read ({exc})")


def _record(kind: str, line: bytes) -> dict[str, Any]:
    """A line of a records file as a record of `kind`; ValueError when it is none."""
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    from_plain(RECORD_KINDS[kind], record)  # every field the record class needs, of its type
    key = record.get(record_key(kind))
    if not isinstance(key, str) or not key:
        raise ValueError(f"no {record_key(kind)}")
    if record_key(kind) == "id" and not (is_id(key) and key == key.lower()):
        raise ValueError(f"{key!r} is not an id")
    return record


def verify(archive: zipfile.ZipFile, manifest: dict[str, Any],
           progress: Progress | None = None) -> None:
    """Read the whole archive and check it against its manifest: the members are those it names,
    each records file has its count and checksum and every line of it is a record of its kind,
    each attachment has its size and checksum and matches its description. Raises BackupError at
    the first thing wrong; writes nothing."""
    records, attachments = manifest["records"], manifest["attachments"]
    expected = ({MANIFEST} | {entry["file"] for entry in records.values()}
                | {entry["file"] for entry in attachments.values()})
    names = archive.namelist()
    extra = sorted(set(names) - expected)
    if extra:
        raise BackupError(f"{archive.filename} holds files its manifest does not name "
                          f"({', '.join(extra[:3])}): it was altered, or not made by "
                          f"`server.py backup`")
    missing = sorted(expected - set(names))
    if missing:
        raise BackupError(f"{archive.filename} lacks files its manifest names "
                          f"({', '.join(missing[:3])}): it is incomplete")
    total = sum(entry["count"] for entry in records.values()) + len(attachments)
    done = 0
    described: dict[str, dict[str, Any]] = {}
    for kind, entry in records.items():
        digest, count, bad = hashlib.sha256(), 0, None
        try:
            for line in _lines(archive, entry["file"]):
                digest.update(line)
                count += 1
                try:
                    record = _record(kind, line)
                except (ValueError, TypeError) as exc:
                    bad = bad or f"line {count} is not a valid {kind} record ({exc})"
                    continue
                if kind == "attachments":
                    described[record["id"]] = record
                done += 1
                _report(progress, "verifying", done, total)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise _damaged(archive, entry["file"], exc) from None
        # The checksum first: an altered line usually breaks it, and says more than the line.
        if digest.hexdigest() != entry["sha256"]:
            raise BackupError(f"{archive.filename}: {entry['file']} does not match its checksum "
                              f"in the manifest: the archive was altered or damaged")
        if count != entry["count"]:
            raise BackupError(f"{archive.filename}: {entry['file']} holds {count} records, the "
                              f"manifest says {entry['count']}: the archive was altered")
        if bad:
            raise BackupError(f"{archive.filename}: {entry['file']}: {bad}")
    if set(described) != set(attachments):
        raise BackupError(f"{archive.filename}: the attachments described in its records and "
                          f"the files it holds do not match")
    for attachment_id, entry in attachments.items():
        digest, size = hashlib.sha256(), 0
        try:
            with archive.open(entry["file"]) as file:
                while chunk := file.read(READ_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise _damaged(archive, entry["file"], exc) from None
        description = described[attachment_id]
        if (digest.hexdigest(), size) != (entry["sha256"], entry["size"]) or (
                digest.hexdigest(), size) != (description["sha256"], description["size"]):
            raise BackupError(f"{archive.filename}: {entry['file']} does not match its checksum: "
                              f"the archive was altered or damaged")
        done += 1
        _report(progress, "verifying", done, total)
    _report(progress, "verifying", total, total)


# restore -------------------------------------------------------------------------------------
async def restore(store: Store, path: str | os.PathLike[str], progress: Progress | None = None,
                  *, force: bool = False) -> dict[str, Any]:
    """Load the archive at `path` into `store` (opened); return its manifest.

    Refuses (BackupError, nothing written) a store holding anything but the seeded departments
    and boards unless `force`, and any archive that fails verify(). Then wipes the store (with
    `force` everything; otherwise there is nothing to wipe but the seeded departments and boards,
    which the archive brings back as they were), loads the records kind by kind in batches and
    the attachments, rebuilds the search index, and reads everything back to compare counts and
    checksums with the manifest."""
    with open_archive(path) as archive:
        manifest = read_manifest(archive)
        if not force and not await store.is_empty():
            raise BackupError("the target database is not empty; restore loads into an empty "
                              "one only. --force wipes it first (everything in it is lost)")
        await asyncio.to_thread(verify, archive, manifest, progress)
        try:
            await store.wipe()
            # Until the archive is wholly in and checked, the database does not serve: a restore
            # killed part-way leaves this mark, and the server refuses to start on it.
            await store.mark_restoring(now())
            await _load(store, archive, manifest, progress)
        except (DomainError, ValueError, OSError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise BackupError(f"the restore stopped part-way ({message}): the target holds part "
                              f"of the archive. Put it right and run the restore again with "
                              f"--force") from exc
        await asyncio.to_thread(search.warm_up)
        posts = manifest["records"].get("posts", {}).get("count", 0)
        indexed = await searching.reindex(
            store, lambda done: _report(progress, "search index", done, max(posts, done)))
        _report(progress, "search index", indexed, indexed)
        await check(store, manifest, progress)
        await store.mark_restoring(None)
    return manifest


async def _load(store: Store, archive: zipfile.ZipFile, manifest: dict[str, Any],
                progress: Progress | None) -> None:
    records = manifest["records"]
    total = sum(entry["count"] for entry in records.values())
    done = 0
    for kind in RECORD_KINDS:  # what a record refers to comes before it
        if kind not in records:
            continue
        batch: list[dict[str, Any]] = []
        for line in _lines(archive, records[kind]["file"]):
            record = json.loads(line)
            if kind == "attachments":
                attachment = from_plain(Attachment, record)
                await store.add_attachment(attachment,
                                           archive.read(attachment_file(attachment.id)))
                done += 1
            else:
                batch.append(record)
                if len(batch) == BATCH:
                    await store.import_records(kind, batch)
                    done += len(batch)
                    batch = []
            _report(progress, "restoring", done, total)
        if batch:
            await store.import_records(kind, batch)
            done += len(batch)
            _report(progress, "restoring", done, total)
    _report(progress, "restoring", total, total)


async def check(store: Store, manifest: dict[str, Any], progress: Progress | None = None) -> None:
    """Read `store` back and compare it with the manifest: each kind's count, and its checksum
    where the archive's records have this version's fields (an older archive's records gain the
    newer fields' defaults, so only their count can be compared); each attachment's bytes."""
    records = manifest["records"]
    fields = manifest.get("schema", {}).get("record_fields", {})
    ours = record_fields()
    total = sum(entry["count"] for entry in records.values()) + len(manifest["attachments"])
    counts = {kind: 0 for kind in RECORD_KINDS}
    digests = {kind: hashlib.sha256() for kind in RECORD_KINDS}
    done = 0
    items = store.export_records()
    async with contextlib.aclosing(items):
        async for kind, record in items:
            counts[kind] += 1
            digests[kind].update(record_line(record))
            done += 1
            _report(progress, "checking", done, max(total, done))
    for kind in RECORD_KINDS:
        entry = records.get(kind, {"count": 0, "sha256": hashlib.sha256().hexdigest()})
        if counts[kind] != entry["count"]:
            raise BackupError(f"after the restore the target holds {counts[kind]} {kind}, the "
                              f"archive {entry['count']}")
        if fields.get(kind) == ours[kind] and digests[kind].hexdigest() != entry["sha256"]:
            raise BackupError(f"after the restore the target's {kind} differ from the archive's")
    for attachment_id, entry in manifest["attachments"].items():
        found = await store.get_attachment(attachment_id)
        if found is None or hashlib.sha256(found[1]).hexdigest() != entry["sha256"]:
            raise BackupError(f"after the restore attachment {attachment_id} differs from the "
                              f"archive's")
        done += 1
        _report(progress, "checking", done, max(total, done))
    _report(progress, "checking", done, done)


# restoring into SQLite: beside the target, then one rename ------------------------------------
RESTORE_PREFIX = ".restore-"     # the work folder, beside the target database
RESTORE_DB = "restoring.db"      # the database loaded there; gone once it is the target
RESTORE_LOCK = "lock"            # held (flock) while the restore runs
RESTORE_MOVED = "moved.json"     # attachment files moved into the target's files/ folder


async def restore_sqlite(target: str, path: str | os.PathLike[str],
                         progress: Progress | None = None, *, force: bool = False
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
                raise BackupError("the target database is not empty; restore loads into an "
                                  "empty one only. --force replaces it (everything in it is "
                                  "lost)")
        finally:
            await existing.close()
        if os.path.exists(target + "-wal"):
            raise BackupError(f"{target} is in use by another process (its -wal file is "
                              f"there): stop the server before restoring")
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


# the command line ----------------------------------------------------------------------------
class ProgressBars:
    """Progress on a terminal (stderr): one line per stage, redrawn in place at most ten times a
    second, and at the end of the stage."""

    WIDTH = 30
    INTERVAL = 0.1

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.stage: str | None = None
        self.shown: tuple[float, int, int | None] = (0.0, -1, None)   # when, done, total
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        moment = time.monotonic()
        if stage != self.stage:
            if self.stage is not None:
                self.stream.write("\n")
            self.stage, self.started = stage, moment
        elif (done, total) == self.shown[1:] or (
                moment - self.shown[0] < self.INTERVAL and done != total):
            return
        self.shown = (moment, done, total)
        if total:
            filled = int(self.WIDTH * min(done, total) / total)
            figure = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total}"
        else:
            figure = f"[{'#' * self.WIDTH}] {done}" if total == 0 else f"{done}"
        self.stream.write(f"\r{stage:<13} {figure} ({moment - self.started:.0f}s)")
        self.stream.flush()

    def close(self) -> None:
        if self.stage is not None:
            self.stream.write("\n")
            self.stream.flush()
            self.stage = None


def _failed(command: str, exc: Exception) -> None:
    """Say why a command failed: expected failures in one line; anything else (a driver's error,
    a bug) with its traceback too, so that it can be looked into."""
    if isinstance(exc, (BackupError, DomainError, OSError)):
        reason = getattr(exc, "message", None) or str(exc)
    else:
        log.error("%s failed", command, exc_info=exc)
        reason = f"{type(exc).__name__}: {exc}"
    print(f"error: {command} failed: {reason}", file=sys.stderr)


def _summary(manifest: dict[str, Any]) -> str:
    counts = {kind: entry["count"] for kind, entry in manifest["records"].items()}
    shown = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
    return (f"{sum(counts.values())} records ({shown or 'none'}) and "
            f"{len(manifest['attachments'])} attachments")


async def _command(name: str, db: str, work: Callable[[Store, ProgressBars], Awaitable[Any]]
                   ) -> tuple[int, Any, Any]:
    """Open the store named by `db`, run `work(store, bars)`, close it; (status, result, store).
    Every failure ends in one line on stderr and status 1."""
    bars = ProgressBars()
    try:
        store = open_store(db)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1, None, None
    try:
        await store.open()
        return 0, await work(store, bars), store
    except Exception as exc:  # noqa: BLE001 - every failure ends in a message and status 1
        bars.close()
        _failed(name, exc)
        return 1, None, store
    finally:
        bars.close()
        await store.close()


async def backup_command(db: str, path: str) -> int:
    """`server.py backup PATH`: exit status 0, or 1 with the reason on stderr."""
    status, manifest, store = await _command(
        "backup", db, lambda store, bars: backup(store, path, bars))
    if status == 0:
        print(f"backed up {_summary(manifest)} from {store.kind} to {path}")
    return status


async def restore_command(db: str, path: str, force: bool) -> int:
    """`server.py restore PATH [--force]`: exit status 0, or 1 with the reason on stderr. Into
    SQLite through restore_sqlite (the target changes at once at the end, or not at all)."""
    try:
        store = open_store(db)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if isinstance(store, SqliteStore):
        bars = ProgressBars()
        try:
            manifest = await restore_sqlite(store.path, path, bars, force=force)
        except Exception as exc:  # noqa: BLE001 - every failure ends in a message and status 1
            bars.close()
            _failed("restore", exc)
            return 1
        bars.close()
        status = 0
    else:
        status, manifest, store = await _command(
            "restore", db, lambda store, bars: restore(store, path, bars, force=force))
    if status == 0:
        print(f"restored {_summary(manifest)} from {path} (made {manifest.get('created_at')} on "
              f"{manifest.get('source', {}).get('store')}) into {store.kind}; search index rebuilt")
    return status
