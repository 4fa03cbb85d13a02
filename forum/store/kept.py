"""The store, with the answers of the reads every page makes kept in the process's memory while
the store's content version stays where it was when they were read.

A logged-in page cannot come whole from the page cache (it is personal), but the records it
shows are the same for everyone: the board's list, the post, its replies, their authors. Reading
them costs a thread hop and decoding rows on every request, more than the rest of the page.
`KeptReads` wraps an adapter (make_app does this) and answers those reads from memory when the
same read, with the same arguments, was answered at the current content version:

- The content version is read before the records, as the page cache does: any later write of
  what pages show, by this process or another sharing the store, moves it on, so a kept answer
  is never older than the last write (Store.content_version).
- Only reads a version covers are kept: content under the content version, and a person's
  unread count and subscriptions (the header and the follow button of every logged-in page)
  under the notices version (Store.notices_version), which every write of notifications and
  subscriptions moves on. Sessions, hits and the like always go to the store. Which posts a
  viewer may see is in the arguments (the services' PostFilter), so one viewer's answer is
  another's only when they asked the very same question.
- Inside a unit of work every read goes to the store: it must see the unit's own writes, and
  its decisions rest on what it read.
- Kept records are shared between requests: callers must not change them (services build new
  views; `dataclasses.replace` where they mask or hide). Lists and dicts are copied per call.

Everything else is the adapter's own, passed through. Bounded, least recently used out first;
one per application, never the module's.

A request reads each version once (`pin_version`, which the web layer calls as each request
starts): a page makes six or seven kept reads, each of which asked the store for the number (on
MongoDB a round trip each). Pinned, the first answer serves the rest of the request, so its
reads see one state at least as new as that number. A write through this wrapper (any method
not known to be a read), a unit of work and `unpin_version` (the request is over: a task it
started may outlive it) let go of the numbers, so the next read asks the store again and a
request sees its own writes.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
from typing import Any, AsyncIterator, Awaitable, Callable

# Answers kept, least recently used out first. A search's page is twenty posts read by id,
# each kept by itself (get_posts), and never-seen searches over 100,000 posts meet tens of
# thousands of posts: with 16,000 rather than 4,000 they cost a tenth less CPU, for some 7 MB
# more memory (docs/PERFORMANCE.md, step 40).
MAX_ANSWERS = 16000

CONTENT, AUTH, NOTICES = "content", "auth", "notices"
# Reads kept, each a pure function of its arguments and what the version named covers (see
# Store.content_version and Store.notices_version).
KEPT_READS: dict[str, str] = {
    **dict.fromkeys(
        (
            "get_post",
            "list_posts",
            "get_users",
            "list_replies",
            "list_revisions",
            "list_events",
            "list_attachments",
            "list_faq",
            "list_flags",
            "list_templates",
            "list_boards",
            "get_board",
            "list_departments",
        ),
        CONTENT,
    ),
    "count_unread": NOTICES,
    "get_subscription": NOTICES,
}


# Methods that change nothing in the store. Anything else is taken for a write (deny by default:
# a method added to the Store later lets go of a pinned version until it is listed here).
READ_PREFIXES = ("get_", "list_", "count_", "find_", "search_")
READS = frozenset(
    {
        "content_version",
        "auth_version",
        "notices_version",
        "versions",
        "ping",
        "check",
        "reply_stats",
        "export_records",
        "unfinished_restore",
        "is_empty",
        "open",
        "close",
    }
)


def _is_read(name: str) -> bool:
    return name in READS or name.startswith(READ_PREFIXES)


class VersionPin:
    """The versions one request read first, by name (CONTENT, AUTH, NOTICES); `held` is False
    once the request is over."""

    __slots__ = ("versions", "held")

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.held = True


def _key_of(value: Any) -> Any:
    """An argument as part of a key: a filter (a dataclass) as its type and its fields' values
    (set in field order by its __init__), a list as a tuple, anything else as it is. Whether the
    whole key can be hashed is tried once, in _read."""
    if hasattr(value, "__dataclass_fields__"):
        return (type(value), *value.__dict__.values())
    if isinstance(value, list):
        return tuple(_key_of(item) for item in value)
    return value


class KeptReads:
    """An adapter (SqliteStore, MongoStore) with its content reads kept per content version."""

    def __init__(self, store: Any, max_answers: int = MAX_ANSWERS) -> None:
        self.store = store
        self.max_answers = max_answers
        self._answers: collections.OrderedDict[Any, tuple[int, Any]] = collections.OrderedDict()
        self._in_unit: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"kept-unit-{id(self)}", default=False
        )
        self._pin: contextvars.ContextVar[VersionPin | None] = contextvars.ContextVar(
            f"kept-pin-{id(self)}", default=None
        )
        self.hits = 0
        self.misses = 0

    def __getattr__(self, name: str) -> Any:
        # Called once per name: what it finds is set on the instance, where it is found next.
        found = getattr(self.store, name)
        if name in KEPT_READS:
            method, covered = found, KEPT_READS[name]

            async def found(*args: Any, **kwargs: Any) -> Any:
                return await self._read(name, covered, method, args, kwargs)
        elif callable(found) and not _is_read(name):
            write = found

            async def found(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await write(*args, **kwargs)
                finally:
                    self._let_go()

        if callable(found):
            setattr(self, name, found)
        return found

    def pin_version(self) -> VersionPin:
        """From now on in this task (and the tasks it starts), each version is read from the
        store once, until a write; give the answer to `unpin_version` when the task's work is
        done."""
        pin = VersionPin()
        self._pin.set(pin)
        return pin

    @staticmethod
    def unpin_version(pin: VersionPin) -> None:
        pin.held = False  # for every task that copied the context holding it, too

    def _let_go(self) -> None:
        pin = self._pin.get()
        if pin is not None:
            pin.versions.clear()

    async def content_version(self) -> int:
        return await self._version(CONTENT)

    async def notices_version(self) -> int:
        return await self._version(NOTICES)

    async def auth_version(self) -> int:
        return await self._version(AUTH)

    async def _version(self, name: str) -> int:
        pin = self._pin.get()
        if pin is not None and pin.held:
            found = pin.versions.get(name)
            if found is None:
                # All three at once: a logged-in page asks for each, and one read costs about
                # what each of three does.
                versions = pin.versions
                versions[CONTENT], versions[AUTH], versions[NOTICES] = await self.store.versions()
                found = versions[name]
            return found
        return await self._read_version(name)

    async def _read_version(self, name: str) -> int:
        version: int = await getattr(self.store, f"{name}_version")()
        return version

    @staticmethod
    def pinned(pin: VersionPin | None, name: str = CONTENT) -> int | None:
        """The version `name` a request's kept reads were all read at; None when none was read
        yet, or a write let go of it."""
        return pin.versions.get(name) if pin is not None and pin.held else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        token = self._in_unit.set(True)
        self._let_go()
        try:
            async with self.store.transaction():
                yield
        finally:
            self._in_unit.reset(token)
            self._let_go()

    async def get_posts(self, post_ids: list[str]) -> list[Any]:
        """As the store's, each post kept by itself (under get_post's key): a search's page is
        a new list of ids each time, but most of the posts on it were on another page a moment
        ago, and a kept record comes with what was made from it before (its masked form, its
        views)."""
        if self._in_unit.get():
            return list(await self.store.get_posts(post_ids))

        async def read(missing: list[str]) -> dict[str, Any]:
            return {post.id: post for post in await self.store.get_posts(missing)}

        found = await self._each_kept("get_post", post_ids, read)
        return [found[post_id] for post_id in post_ids if post_id in found]

    async def get_users(self, user_ids: list[str]) -> dict[str, Any]:
        """As the store's, each account kept by itself (under get_user's key): the writers of a
        search's page are a new list each time but mostly the same people, and a post's kept
        views are made again when its writer's record is another object (presenting)."""
        if self._in_unit.get():
            return dict(await self.store.get_users(user_ids))
        return await self._each_kept("get_user", user_ids, self.store.get_users)

    async def _each_kept(
        self, single: str, ids: list[str], read: Callable[[list[str]], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """The records of `ids` found, by id, each kept by itself under the key of `single` (the
        store's read of one, by id) at the content version; `read(missing)` reads the others."""
        version = await self._version(CONTENT)
        found: dict[str, Any] = {}
        missing = []
        for record_id in dict.fromkeys(ids):
            kept = self._kept(_key_by_id(single, record_id), version)
            if kept is None:
                missing.append(record_id)
            elif kept[0] is not None:
                found[record_id] = kept[0]
        if missing:
            self.misses += 1
            for record_id, record in (await read(missing)).items():
                self._keep(_key_by_id(single, record_id), version, record)
                found[record_id] = record
        return found

    def _kept(self, key: Any, version: int) -> tuple[Any] | None:
        """The answer kept under `key` at `version` (in a tuple: it may be None), or None."""
        kept = self._answers.get(key)
        if kept is None or kept[0] != version:
            return None
        self._answers.move_to_end(key)
        self.hits += 1
        return (kept[1],)

    def _keep(self, key: Any, version: int, answer: Any) -> None:
        self._answers[key] = (version, answer)
        self._answers.move_to_end(key)
        while len(self._answers) > self.max_answers:
            self._answers.popitem(last=False)

    async def _read(
        self, name: str, covered: str, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if self._in_unit.get():
            return await method(*args, **kwargs)
        key = _key(name, args, kwargs)
        try:
            hash(key)
        except TypeError:  # an argument that cannot be part of a key: the store answers
            return await method(*args, **kwargs)
        # Before the records: a write after this moves the number on, and the answer read
        # below is then kept under a number nobody will ask for again.
        version = await self._version(covered)
        kept = self._kept(key, version)
        if kept is not None:
            return _copy(kept[0])
        self.misses += 1
        answer = await method(*args, **kwargs)
        self._keep(key, version, answer)
        return _copy(answer)


def _key(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return (
        name,
        tuple(_key_of(arg) for arg in args),
        tuple(sorted(kwargs.items())) if kwargs else (),
    )


def _key_by_id(name: str, record_id: str) -> Any:
    """_key(name, (record_id,), {}), made directly: a page asks it for each of its twenty
    records, where _key's general walk over the arguments cost six times as much."""
    return (name, (record_id,), ())


def _copy(answer: Any) -> Any:
    """A list or dict of its own for each caller (who may sort or extend it); the records in it
    are shared."""
    if isinstance(answer, list):
        return list(answer)
    if isinstance(answer, dict):
        return dict(answer)
    return answer
