"""Backup: every record of a store and every attachment, in one portable archive.

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

Here: the format (its names, its canonical record lines) and writing an archive. Reading one back,
checking it and loading it: restore.py, and into SQLite all at once: restore_sqlite.py. No
Tornado here: the command line (server.py) calls commands.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import tempfile
import time
import zipfile
from typing import Any, Callable

from forum.clock import now
from forum.durable import sync_folder
from forum.model import iso
from forum.services import notify, recovery
from forum.store.base import RECORD_KINDS, TRANSIENT_KINDS, Store

FORMAT = "yuxi-forum-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

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
    return (
        json.dumps(
            record, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_value
        )
        + "\n"
    ).encode()


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def record_fields() -> dict[str, list[str]]:
    """The fields of each kind's records, as this version writes them: the schema an archive
    records in its manifest."""
    return {kind: [f.name for f in dataclasses.fields(cls)] for kind, cls in RECORD_KINDS.items()}


def report(progress: Progress | None, stage: str, done: int, total: int | None) -> None:
    if progress is not None:
        progress(stage, done, total)


# writing an archive --------------------------------------------------------------------------
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
        return {
            "file": records_file(self.kind),
            "count": self.count,
            "sha256": self.hash.hexdigest(),
        }


def _member(name: str, compress_type: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
    info.compress_type = compress_type
    return info


async def backup(
    store: Store, path: str | os.PathLike[str], progress: Progress | None = None
) -> dict[str, Any]:
    """Write every record and attachment of `store` to a new archive at `path` (which must not
    exist); return its manifest. The records are read from one snapshot (see
    Store.export_records). The archive appears at `path` only once complete and on disk; until
    then it is a hidden temporary file beside it."""
    path = os.fspath(path)
    if os.path.lexists(path):
        raise BackupError(
            f"{path} exists already: choose a new name (a backup never overwrites a file)"
        )
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
            archive.writestr(
                _member(MANIFEST), json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
            )
        _sync_file(temporary)
        os.replace(temporary, path)
        sync_folder(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    return manifest


async def _write_records(
    store: Store, archive: zipfile.ZipFile, progress: Progress | None, total: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kinds: dict[str, Any] = {}
    descriptions: list[dict[str, Any]] = []
    writer: _RecordsWriter | None = None
    done = 0
    records = store.export_records()
    async with contextlib.aclosing(records):
        async for kind, record in records:
            done += 1
            report(progress, "records", done, max(total, done))
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
    report(progress, "records", done, done)
    return {kind: kinds[kind] for kind in RECORD_KINDS}, descriptions


# Mail whose body holds a one-use link in plain text: a password reset, an address to confirm.
SECRET_SUBJECTS = frozenset({recovery.RESET_SUBJECT, notify.CONFIRM_SUBJECT})


def _holds_a_live_secret(mail: dict[str, Any]) -> bool:
    """Mail with a one-use link, not yet sent: it stays out of archives (once sent, the outbox
    keeps no body: mailer.DONE_BODY). The link would not work after a restore anyway: the
    token's hash is a login, and logins are left out."""
    return mail.get("subject") in SECRET_SUBJECTS and mail.get("sent_at") is None


async def _write_attachments(
    store: Store,
    archive: zipfile.ZipFile,
    descriptions: list[dict[str, Any]],
    progress: Progress | None,
) -> dict[str, Any]:
    attachments: dict[str, Any] = {}
    report(progress, "attachments", 0, len(descriptions))
    for done, description in enumerate(descriptions, 1):
        # An attachment's bytes never change once stored, so reading them after the snapshot
        # gives what the snapshot's description names.
        found = await store.get_attachment(description["id"])
        if found is None:
            raise BackupError(
                f"attachment {description['id']} is described but its bytes are "
                f"missing from the store"
            )
        data = found[1]
        digest = hashlib.sha256(data).hexdigest()
        if digest != description["sha256"] or len(data) != description["size"]:
            raise BackupError(
                f"the bytes of attachment {description['id']} do not match the "
                f"checksum recorded when it was uploaded: the store's copy is "
                f"damaged"
            )
        # Stored, not deflated: JPEG, PNG and PDF are compressed already.
        archive.writestr(_member(attachment_file(description["id"]), zipfile.ZIP_STORED), data)
        attachments[description["id"]] = {
            "file": attachment_file(description["id"]),
            "size": len(data),
            "sha256": digest,
        }
        report(progress, "attachments", done, len(descriptions))
    return attachments


def _sync_file(path: str) -> None:
    with open(path, "rb") as file:
        os.fsync(file.fileno())
