"""`server.py backup` and `server.py restore`: one line for what was done, or for why it failed
(exit status 1); and the progress bars every command of forum/ops draws on the terminal."""

from __future__ import annotations

import logging
import sys
import time
from typing import IO, Any, Awaitable, Callable

from forum.errors import DomainError
from forum.ops.backup import BackupError, backup
from forum.ops.restore import restore
from forum.ops.restore_sqlite import restore_sqlite
from forum.store import open_store
from forum.store.base import Store
from forum.store.sqlite import SqliteStore

log = logging.getLogger("forum.ops.backup")  # restore_sqlite.py logs to it too


class ProgressBars:
    """Progress on a terminal (stderr): one line per stage, redrawn in place at most ten times a
    second, and at the end of the stage."""

    WIDTH = 30
    INTERVAL = 0.1

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.stage: str | None = None
        self.shown: tuple[float, int, int | None] = (0.0, -1, None)  # when, done, total
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        moment = time.monotonic()
        if stage != self.stage:
            if self.stage is not None:
                self.stream.write("\n")
            self.stage, self.started = stage, moment
        elif (done, total) == self.shown[1:] or (
            moment - self.shown[0] < self.INTERVAL and done != total
        ):
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
    return (
        f"{sum(counts.values())} records ({shown or 'none'}) and "
        f"{len(manifest['attachments'])} attachments"
    )


async def _command(
    name: str, db: str, work: Callable[[Store, ProgressBars], Awaitable[Any]]
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
        "backup", db, lambda store, bars: backup(store, path, bars)
    )
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
            "restore", db, lambda store, bars: restore(store, path, bars, force=force)
        )
    if status == 0:
        print(
            f"restored {_summary(manifest)} from {path} (made {manifest.get('created_at')} on "
            f"{manifest.get('source', {}).get('store')}) into {store.kind}; search index rebuilt"
        )
    return status
