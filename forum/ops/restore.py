"""Restore: an archive (see backup.py) read, checked and loaded into a store.

A restore checks the whole archive (manifest, counts, checksums, every record readable as its
kind, every attachment's bytes) before it writes anything, so a truncated, altered or foreign file
leaves the target as it was. It loads into an empty target only (one holding nothing but the
departments and boards every start seeds); `force` wipes a target that is not empty first
(everything: records, logins, attachments), in either kind of store, but still only after the
archive has passed every check. After loading it rebuilds the search index, then reads the target
back and compares counts and checksums with the manifest.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import zipfile
import zlib
from typing import Any, Iterator

from forum import search
from forum.clock import now
from forum.errors import DomainError
from forum.model import Attachment, is_id
from forum.ops.backup import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    BackupError,
    Progress,
    attachment_file,
    record_fields,
    record_line,
    records_file,
    report,
)
from forum.services import searching
from forum.store.base import RECORD_KINDS, Store, record_key
from forum.store.codec import from_plain

BATCH = 500
READ_CHUNK = 1 << 20


# reading an archive --------------------------------------------------------------------------
def open_archive(path: str | os.PathLike[str]) -> zipfile.ZipFile:
    """The archive at `path`; BackupError when there is none or it is no ZIP file (a truncated
    one is none: its directory, at the end, is gone)."""
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BackupError(f"{os.fspath(path)}: no such file") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BackupError(
            f"{os.fspath(path)} is not a backup archive: not a ZIP file, or "
            f"truncated or damaged ({exc})"
        ) from None


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, checked for shape and version; BackupError for a foreign or newer file."""
    foreign = f"{archive.filename} is not a backup made by `server.py backup`"
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
        raise BackupError(
            f"{archive.filename} was made by a newer version (archive format "
            f"{version}; this one reads up to {FORMAT_VERSION}): restore it "
            f"with that version or a later one"
        )
    records, attachments = manifest.get("records"), manifest.get("attachments")
    if not isinstance(records, dict) or not isinstance(attachments, dict):
        raise BackupError(f"{archive.filename}: {MANIFEST} lists no records or attachments")
    unknown = sorted(set(records) - set(RECORD_KINDS))
    if unknown:
        raise BackupError(
            f"{archive.filename} holds records of kinds this version does not "
            f"know ({', '.join(unknown)}): restore it with the version that made "
            f"it or a later one"
        )
    for kind, entry in records.items():
        if not (
            isinstance(entry, dict)
            and entry.get("file") == records_file(kind)
            and _is_count(entry.get("count"))
            and _is_digest(entry.get("sha256"))
        ):
            raise BackupError(f"{archive.filename}: {MANIFEST} has no valid entry for {kind}")
    for attachment_id, entry in attachments.items():
        if not (
            is_id(attachment_id)
            and attachment_id == attachment_id.lower()
            and isinstance(entry, dict)
            and entry.get("file") == attachment_file(attachment_id)
            and _is_count(entry.get("size"))
            and _is_digest(entry.get("sha256"))
        ):
            raise BackupError(
                f"{archive.filename}: {MANIFEST} has no valid entry for "
                f"attachment {attachment_id!r}"
            )
    return manifest


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_digest(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 64
        and all(char in "0123456789abcdef" for char in value)
    )


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


def verify(
    archive: zipfile.ZipFile, manifest: dict[str, Any], progress: Progress | None = None
) -> None:
    """Read the whole archive and check it against its manifest: the members are those it names,
    each records file has its count and checksum and every line of it is a record of its kind,
    each attachment has its size and checksum and matches its description. Raises BackupError at
    the first thing wrong; writes nothing."""
    records, attachments = manifest["records"], manifest["attachments"]
    expected = (
        {MANIFEST}
        | {entry["file"] for entry in records.values()}
        | {entry["file"] for entry in attachments.values()}
    )
    names = archive.namelist()
    extra = sorted(set(names) - expected)
    if extra:
        raise BackupError(
            f"{archive.filename} holds files its manifest does not name "
            f"({', '.join(extra[:3])}): it was altered, or not made by "
            f"`server.py backup`"
        )
    missing = sorted(expected - set(names))
    if missing:
        raise BackupError(
            f"{archive.filename} lacks files its manifest names "
            f"({', '.join(missing[:3])}): it is incomplete"
        )
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
                report(progress, "verifying", done, total)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise _damaged(archive, entry["file"], exc) from None
        # The checksum first: an altered line usually breaks it, and says more than the line.
        if digest.hexdigest() != entry["sha256"]:
            raise BackupError(
                f"{archive.filename}: {entry['file']} does not match its checksum "
                f"in the manifest: the archive was altered or damaged"
            )
        if count != entry["count"]:
            raise BackupError(
                f"{archive.filename}: {entry['file']} holds {count} records, the "
                f"manifest says {entry['count']}: the archive was altered"
            )
        if bad:
            raise BackupError(f"{archive.filename}: {entry['file']}: {bad}")
    if set(described) != set(attachments):
        raise BackupError(
            f"{archive.filename}: the attachments described in its records and "
            f"the files it holds do not match"
        )
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
            digest.hexdigest(),
            size,
        ) != (description["sha256"], description["size"]):
            raise BackupError(
                f"{archive.filename}: {entry['file']} does not match its checksum: "
                f"the archive was altered or damaged"
            )
        done += 1
        report(progress, "verifying", done, total)
    report(progress, "verifying", total, total)


# restore -------------------------------------------------------------------------------------
async def restore(
    store: Store,
    path: str | os.PathLike[str],
    progress: Progress | None = None,
    *,
    force: bool = False,
) -> dict[str, Any]:
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
            raise BackupError(
                "the target database is not empty; restore loads into an empty "
                "one only. --force wipes it first (everything in it is lost)"
            )
        await asyncio.to_thread(verify, archive, manifest, progress)
        try:
            await store.wipe()
            # Until the archive is wholly in and checked, the database does not serve: a restore
            # killed part-way leaves this mark, and the server refuses to start on it.
            await store.mark_restoring(now())
            await _load(store, archive, manifest, progress)
        except (DomainError, ValueError, OSError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise BackupError(
                f"the restore stopped part-way ({message}): the target holds part "
                f"of the archive. Put it right and run the restore again with "
                f"--force"
            ) from exc
        await asyncio.to_thread(search.warm_up)
        posts = manifest["records"].get("posts", {}).get("count", 0)
        indexed = await searching.reindex(
            store, lambda done: report(progress, "search index", done, max(posts, done))
        )
        report(progress, "search index", indexed, indexed)
        await check(store, manifest, progress)
        await store.mark_restoring(None)
    return manifest


async def _load(
    store: Store, archive: zipfile.ZipFile, manifest: dict[str, Any], progress: Progress | None
) -> None:
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
                await store.add_attachment(attachment, archive.read(attachment_file(attachment.id)))
                done += 1
            else:
                batch.append(record)
                if len(batch) == BATCH:
                    await store.import_records(kind, batch)
                    done += len(batch)
                    batch = []
            report(progress, "restoring", done, total)
        if batch:
            await store.import_records(kind, batch)
            done += len(batch)
            report(progress, "restoring", done, total)
    report(progress, "restoring", total, total)


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
            report(progress, "checking", done, max(total, done))
    for kind in RECORD_KINDS:
        entry = records.get(kind, {"count": 0, "sha256": hashlib.sha256().hexdigest()})
        if counts[kind] != entry["count"]:
            raise BackupError(
                f"after the restore the target holds {counts[kind]} {kind}, the "
                f"archive {entry['count']}"
            )
        if fields.get(kind) == ours[kind] and digests[kind].hexdigest() != entry["sha256"]:
            raise BackupError(f"after the restore the target's {kind} differ from the archive's")
    for attachment_id, entry in manifest["attachments"].items():
        found = await store.get_attachment(attachment_id)
        if found is None or hashlib.sha256(found[1]).hexdigest() != entry["sha256"]:
            raise BackupError(
                f"after the restore attachment {attachment_id} differs from the archive's"
            )
        done += 1
        report(progress, "checking", done, max(total, done))
    report(progress, "checking", done, done)
