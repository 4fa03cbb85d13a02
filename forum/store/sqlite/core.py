"""The SQLite store's core (_Core), which every record family subclasses: the connections,
the writer and its group commit, the unit of work, open and close, the versions.

One writer thread owns the only writing connection, so writes never contend inside the process;
readers use their own connections on a small pool, which WAL lets run beside the writer. Reads
and single writes run off the event loop, except the version reads and reads by key (see _read),
which take less than the trip to a reader thread and back; a use case's unit of work
(Store.transaction) runs its statements on it while the unit holds the writer (see _in_unit),
since the trips to the writer thread and back cost more than the statements and every other
writer waits meanwhile.

Group commit: the units of work (and single writes) that queue for the writer while a group is
open run one after another in that group's transaction, each under a savepoint of its own (one
that fails is rolled back alone), and the group ends in one COMMIT, so one flush to disk serves
all of them. Every caller returns only after the COMMIT that holds its writes: a client told
"created" has its write on disk. Between processes the writer takes a lock file beside the
database (flock) around each group's transaction, so a process waiting for another's group is
woken by the kernel the moment it ends, not by SQLite's busy handler, which sleeps with a
growing back-off (up to 100 ms a try) and gave `--processes 2` its second-long tails.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import datetime as dt
import fcntl
import functools
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncIterator, Callable, Iterator

from forum.durable import sync_folder
from forum.model import iso
from forum.store.base import StoreUnavailable, newer_schema
from forum.store.sqlite.migrations import CORE_TABLES, MIGRATIONS, _examine
from forum.store.sqlite.rows import T, _from_row, _where

BUSY_TIMEOUT_MS = 10_000
LOOP_READ_TIMEOUT_MS = 200  # reads on the event loop (_on_loop) must not wait long
READER_THREADS = 2
# Attachment bytes live in this folder beside the database file, one file per attachment named by
# its id; never under static/, so no file is served without the application's checks.
FILES_FOLDER = "files"


# Moves notices_version on, in the transaction of a write of notifications or subscriptions.
MOVE_NOTICES = "UPDATE notices_version SET version = version + 1"


@dataclasses.dataclass
class _Unit:
    """An open unit of work: whether it wrote anything pages show (content_version then moves
    on in its group's commit), and whether it is a use case's (Store.transaction), whose
    statements may run on the event loop (see _in_unit), or a single write's own."""

    content: bool = False
    use_case: bool = True


@dataclasses.dataclass
class _Group:
    """The writer's open transaction and the units that finished in it, waiting for its COMMIT
    (`committed`: its result, or the error that lost them all)."""

    committed: asyncio.Future[None]
    content: bool = False
    flush: asyncio.Task[None] | None = None


class _GroupLost(sqlite3.OperationalError):
    """The writer's transaction ended under a unit (SQLite rolls the whole transaction back on
    some errors: a full disk, an I/O error): the units of its group are not stored."""


def _roll_back(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _savepoint(conn: sqlite3.Connection) -> None:
    conn.execute("SAVEPOINT unit")


def _release(conn: sqlite3.Connection) -> None:
    conn.execute("RELEASE unit")


@contextlib.contextmanager
def _unavailable_on_failure() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        # The SQLite text stays in the cause, for the log; clients see the plain message.
        raise StoreUnavailable() from exc
    except sqlite3.DatabaseError as exc:
        if type(exc) is not sqlite3.DatabaseError:
            raise  # a constraint or a mistake in a statement, not the file
        # A damaged file ("database disk image is malformed"): unavailable, not a bug.
        raise StoreUnavailable() from exc


class _Core:
    """The connections, the writer thread and its group commit, the unit of work, the store's
    lifecycle, and the reads every family pages with; each family is a subclass, and
    SqliteStore (in __init__.py) is all of them."""

    def __init__(self, path: str):
        self.path = path
        self.files = os.path.join(os.path.dirname(path), FILES_FOLDER)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._loop_connection: sqlite3.Connection | None = None
        # The unit of work open in this context (see transaction), and the gate that lets one
        # unit or one single write at a time onto the writer's connection.
        self._unit: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar(
            f"sqlite-unit-{id(self)}", default=None
        )
        self._gate: asyncio.Lock | None = None
        self._gate_loop: asyncio.AbstractEventLoop | None = None
        # The group open on the writer (see transaction). `_pending`: statements the next call
        # on the writer runs first (the group's BEGIN, a unit's SAVEPOINT and RELEASE), so that
        # opening and closing a unit costs no trip of its own to the writer thread; changed
        # only while holding the gate, run only on the writer thread.
        self._group: _Group | None = None
        self._pending: list[Callable[[sqlite3.Connection], None]] = []
        # Writer thread only: the lock file's descriptor, whether it holds the lock (from the
        # group's BEGIN to its COMMIT or ROLLBACK).
        self._lock_descriptor: int | None = None
        self._locked = False
        # The writer's connection, and its last call handed to the writer thread (see _in_unit).
        self._writer_connection: sqlite3.Connection | None = None
        self._on_writer: concurrent.futures.Future[Any] | None = None

    # connections -----------------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    async def _read(self, work: Callable[[sqlite3.Connection], T], *, by_key: bool = False) -> T:
        """`work` on a reader thread; `by_key`: a read of a few rows found through an index
        (posts or people by id, a search's ranking over kept candidates), which runs on the
        event loop's own connection instead. The hop to a reader thread and back, and the
        wait for the GIL when the answer returns, cost more than such a read: a never-seen
        search (four reads) took a quarter less CPU with its reads on the loop."""
        unit = self._unit.get()
        if unit is not None:
            # Inside a unit of work reads go through its transaction: they see its own writes,
            # and what they saw cannot change before it commits.
            return await self._in_unit(work)
        if by_key:
            return self._on_loop(work)
        return await self._run(self._readers, work)

    async def _write(self, work: Callable[[sqlite3.Connection], T], *, content: bool = True) -> T:
        """`work` in the writer's transaction: the open unit of work's, else a unit of its own
        (returning once its group has committed). `content`: it may change what pages show, so
        content_version moves on in the same transaction; False only for bookkeeping that no
        shared page shows (sessions, throttling hits, notifications, mail, audit, API keys)."""
        unit = self._unit.get()
        if unit is not None:
            unit.content = unit.content or content
            return await self._in_unit(work)
        async with self._unit_of_work(use_case=False):
            return await self._write(work, content=content)

    def _writer_gate(self) -> asyncio.Lock:
        # An asyncio lock belongs to one event loop; tools that run several loops one after
        # another over one store (asyncio.run per step) get a fresh one for each. A group left
        # by a loop that ended (its callers cancelled, none told it committed) is abandoned:
        # the next BEGIN rolls it back.
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate_loop is not loop:
            self._gate, self._gate_loop = asyncio.Lock(), loop
            self._group, self._pending = None, []
        return self._gate

    def transaction(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._unit_of_work(use_case=True)

    @contextlib.asynccontextmanager
    async def _unit_of_work(self, *, use_case: bool) -> AsyncIterator[None]:
        if self._unit.get() is not None:
            yield  # joins the unit already open
            return
        async with self._writer_gate():
            group = self._group
            if group is None:
                group = self._group = _Group(asyncio.get_running_loop().create_future())
                self._pending.append(self._begin)
            self._pending.append(_savepoint)
            unit = _Unit(use_case=use_case)
            token = self._unit.set(unit)
            failure: Exception | None = None
            try:
                yield
            except Exception as exc:
                self._unit.reset(token)
                if not await self._run(self._writer, self._undo_unit, pending=False):
                    self._lose(group)
                    raise
                failure = exc
            except BaseException:  # cancelled: undone, and no waiting for the group
                self._unit.reset(token)
                if not await self._run(self._writer, self._undo_unit, pending=False):
                    self._lose(group)
                raise
            else:
                self._unit.reset(token)
                self._pending.append(_release)
                group.content = group.content or unit.content
            if group.flush is None:
                # Queued behind the units already waiting for the gate, which join this group
                # first; those that come later wait for the next one.
                group.flush = asyncio.ensure_future(self._flush(group))
        try:
            # Shielded: a caller that stops waiting must not cancel the others' commit.
            await asyncio.shield(group.committed)
        except Exception:
            if failure is None:
                raise
        if failure is not None:
            # Raised only now: a unit that failed on what an earlier unit of its group wrote
            # (a conditional write finding the status moved on) is answered once that write is
            # committed, so what its caller reads next (the state now, for a 409) shows it.
            raise failure

    async def _flush(self, group: _Group) -> None:
        """Commit `group`: one COMMIT (one flush to disk) for every unit in it."""
        async with self._writer_gate():
            if self._group is not group:
                return  # lost meanwhile; its callers have been told
            self._group = None
            try:
                await self._run(self._writer, functools.partial(self._commit, group.content))
            except Exception as exc:  # every caller of the group gets the error, none the commit
                group.committed.set_exception(exc)
            except BaseException:  # cancelled with the loop: the callers must not wait forever
                group.committed.set_exception(StoreUnavailable())
                raise
            else:
                group.committed.set_result(None)

    def _lose(self, group: _Group) -> None:
        if self._group is group:
            self._group = None
            self._pending = []
        if group.flush is not None and not group.committed.done():
            # Units finished in it wait for this commit: they learn that it will not come.
            group.committed.set_exception(StoreUnavailable())
            group.flush.cancel()

    # writer thread ---------------------------------------------------------------------------
    def _lock_file(self) -> int:
        if self._lock_descriptor is None:
            self._lock_descriptor = os.open(self.path + "-lock", os.O_RDWR | os.O_CREAT, 0o644)
        return self._lock_descriptor

    def _take_lock(self) -> None:
        # Blocks until no other process (or other store over this file) has a group open: the
        # kernel wakes this thread when that one ends, so the wait is the other's group and no
        # more. SQLite's own lock then never waits (its busy handler would sleep 25–100 ms a
        # try once another writer held on for a few milliseconds).
        fcntl.flock(self._lock_file(), fcntl.LOCK_EX)
        self._locked = True

    def _drop_lock(self, conn: sqlite3.Connection) -> None:
        if self._locked and not conn.in_transaction:
            fcntl.flock(self._lock_file(), fcntl.LOCK_UN)
            self._locked = False

    def _begin(self, conn: sqlite3.Connection) -> None:
        self._take_lock()
        try:
            _roll_back(conn)  # a group abandoned by an event loop that ended (_writer_gate)
            conn.execute("BEGIN IMMEDIATE")
        finally:
            self._drop_lock(conn)

    def _undo_unit(self, conn: sqlite3.Connection) -> bool:
        """Roll back the failed unit alone; whether the group's transaction still stands."""
        pending, self._pending = self._pending, []
        if _savepoint in pending:
            # The unit never reached the writer: nothing of it to undo (the unit before it is
            # still to be released). A BEGIN that never ran leaves no group: this was its first.
            self._pending = [step for step in pending if step is _release]
            return self._begin not in pending and conn.in_transaction
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
        except sqlite3.Error:
            _roll_back(conn)
        finally:
            self._drop_lock(conn)
        return conn.in_transaction

    def _commit(self, content: bool, conn: sqlite3.Connection) -> None:
        try:
            if content:
                conn.execute("UPDATE content_version SET version = version + 1")
            conn.execute("COMMIT")
        except BaseException:
            _roll_back(conn)
            raise
        finally:
            self._drop_lock(conn)

    async def _in_unit(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` of the open unit, which holds the gate and so the writer's connection: a use
        case's runs here, on the event loop, when the writer thread has nothing of the unit's
        in hand. A use case's statements take tens of microseconds each (a post, a reply, a
        case's step: a few rows), a trip to the writer thread and back through the loop's queue
        a millisecond or more under load, and every other writer waits at the gate meanwhile.
        A single write outside a use case still runs on the writer thread: bulk work (a
        restore, a reindex batch, wiping the store) is written so, and must not hold the loop.
        The group's BEGIN (which may wait for another process's lock) and its COMMIT (the flush
        to disk) always run on the writer thread."""
        unit = self._unit.get()
        if (
            unit is None
            or not unit.use_case
            or self._writer_connection is None
            or self._begin in self._pending
            or (self._on_writer is not None and not self._on_writer.done())
        ):
            return await self._run(self._writer, work)
        with _unavailable_on_failure():
            return self._on_connection(self._writer_connection, self._writer, True, work)

    def _on_connection(
        self,
        conn: sqlite3.Connection,
        pool: ThreadPoolExecutor,
        pending: bool,
        work: Callable[[sqlite3.Connection], T],
    ) -> T:
        if pool is self._writer and pending:
            steps, self._pending = self._pending, []
            for step in steps:
                step(conn)
            if self._locked and not conn.in_transaction:
                # SQLite ended the group's transaction under an earlier statement: what
                # follows must not run outside it, one statement at a time.
                self._drop_lock(conn)
                raise _GroupLost("the group's transaction was rolled back")
        return work(conn)

    async def _run(
        self,
        pool: ThreadPoolExecutor,
        work: Callable[[sqlite3.Connection], T],
        *,
        pending: bool = True,
    ) -> T:
        """`work` on a thread of `pool`; on the writer, after the statements pending for it
        (unless `pending` is False: the work takes them itself)."""

        def call() -> T:
            conn = self._connection()
            if pool is self._writer:
                self._writer_connection = conn
            return self._on_connection(conn, pool, pending, work)

        with _unavailable_on_failure():
            future = pool.submit(call)
            if pool is self._writer:
                self._on_writer = future
            return await asyncio.wrap_future(future)

    # lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        """Upgrade the schema, after making sure the file is this forum's database (or empty):
        another application's database, a damaged file and a newer schema are refused
        (StoreRefused) before anything is written to the file or beside it."""
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        await asyncio.to_thread(_examine, self.path)
        await self._run(self._writer, self._migrate)
        os.makedirs(self.files, exist_ok=True)
        # The folder's own entry must be on disk too, or a crash could lose every file in it.
        sync_folder(directory)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise newer_schema(self.path, version, len(MIGRATIONS))
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits on its own, so the version bump goes inside the same script.
            conn.executescript(
                f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;"
            )

    async def close(self) -> None:
        def close_all() -> None:
            with self._connections_lock:
                for conn in self._connections:
                    conn.close()
                self._connections.clear()
            self._loop_connection = None

        group = self._group
        if group is not None and group.flush is not None and not group.flush.done():
            await asyncio.wait([group.flush])  # its callers were cancelled; commit what they wrote
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        close_all()
        if self._lock_descriptor is not None:
            os.close(self._lock_descriptor)  # also lets go of the lock, were it held
            self._lock_descriptor, self._locked = None, False

    async def ping(self) -> None:
        def probe(conn: sqlite3.Connection) -> None:
            # The first row of each core table: a few pages each, however large the table,
            # yet enough to find a table whose pages the file has lost.
            for table in sorted(CORE_TABLES):
                conn.execute(f"SELECT * FROM {table} LIMIT 1").fetchall()

        await self._read(probe)

    async def check(self) -> list[str]:
        def quick_check() -> list[str]:
            if not os.path.exists(self.path):
                return [f"{self.path} does not exist"]
            try:
                conn = sqlite3.connect(self.path, isolation_level=None)
                try:
                    found = [row[0] for row in conn.execute("PRAGMA quick_check")]
                finally:
                    conn.close()
            except sqlite3.DatabaseError as exc:
                return [str(exc)]
            return [] if found == ["ok"] else found

        return await asyncio.to_thread(quick_check)

    async def content_version(self) -> int:
        return self._version("SELECT version FROM content_version")

    async def auth_version(self) -> int:
        # Read like content_version, for the same reason: logged-in pages ask on every request.
        return self._version("SELECT version FROM auth_version")

    async def notices_version(self) -> int:
        # Read like content_version, for the same reason: logged-in pages ask on every request.
        return self._version("SELECT version FROM notices_version")

    async def versions(self) -> tuple[int, int, int]:
        return self._on_loop(
            lambda conn: tuple(
                conn.execute(
                    "SELECT (SELECT version FROM content_version), "
                    "(SELECT version FROM auth_version), (SELECT version FROM notices_version)"
                ).fetchone()
            )
        )

    def _version(self, sql: str) -> int:
        # Read on the event loop's own thread, the one exception to "every call off the loop":
        # one row of a one-page table takes microseconds, a hop to a reader thread and back
        # costs more than that, and pages ask on every anonymous request.
        return self._on_loop(lambda conn: int(conn.execute(sql).fetchone()[0]))

    def _on_loop(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` on the event loop's own connection: the version reads, and reads by key (see
        _read). Under WAL a reader never waits for the writer; the short busy timeout bounds
        the rare wait for a checkpoint or recovery, after which the store counts as
        unavailable."""
        conn = self._loop_connection
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=LOOP_READ_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {LOOP_READ_TIMEOUT_MS}")
            self._loop_connection = conn
            with self._connections_lock:
                self._connections.append(conn)
        with _unavailable_on_failure():
            return work(conn)

    # reads the families share ----------------------------------------------------------------
    async def _page(
        self,
        cls: type[T],
        table: str,
        time: str,
        clauses: list[str],
        params: list[Any],
        after: tuple[dt.datetime, str] | None,
        limit: int,
        *,
        ascending: bool = False,
    ) -> list[T]:
        """Up to `limit` rows matching `clauses`, ordered by (time, id), newest first unless
        `ascending`, strictly after the key `after` in that order."""
        beyond, order = (">", "ASC") if ascending else ("<", "DESC")
        clauses, params = list(clauses), list(params)
        if after is not None:
            # A row value, not "time < ? OR (time = ? AND id < ?)": SQLite seeks the index to
            # it, where the OR made it walk the index from the top (279 ms, not 0.2 ms, half
            # way down a board of 1,000,000 posts).
            clauses.append(f"({time}, id) {beyond} (?, ?)")
            params.extend([iso(after[0]), after[1]])
        sql = f"SELECT * FROM {table}{_where(clauses)} ORDER BY {time} {order}, id {order} LIMIT ?"
        # LIMIT -1 would mean no limit at all to SQLite; MongoDB's adapter answers [] too.
        rows = await self._read(lambda conn: conn.execute(sql, [*params, max(limit, 0)]).fetchall())
        return [_from_row(cls, row) for row in rows]

    async def _children(self, cls: type[T], table: str, order: str, post_id: str) -> list[T]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT * FROM {table} WHERE post_id = ? ORDER BY {order}, id", (post_id,)
            ).fetchall()
        )
        return [_from_row(cls, row) for row in rows]
