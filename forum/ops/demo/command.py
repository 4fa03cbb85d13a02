"""`python server.py demo`: the demo loaded into a database, bulk forum posts added, and the
accounts printed with their password."""

from __future__ import annotations

import logging
import sys
import time
from typing import IO

from forum.ops.demo.bulk import add_bulk_posts
from forum.ops.demo.loading import Loaded, database_state, load_demo
from forum.security import Passwords

ROLE_ORDER = ("admin", "moderator", "staff", "lawyer", "expert", "citizen")


async def demo_command(
    db: str,
    posts: int = 0,
    force: bool = False,
    *,
    scale: float = 1.0,
    passwords: Passwords | None = None,
    out: IO[str] | None = None,
) -> int:
    """`python server.py demo`: load the demo into the database `db` (refusing one that is not
    fresh unless `force`), then `posts` bulk forum posts; print the accounts and their
    password. Returns the exit status."""
    from forum.ops.commands import ProgressBars
    from forum.config import Config
    from forum.errors import DomainError, StoreUnavailable
    from forum.services.setup import prepare_store
    from forum.store import open_store

    out = out if out is not None else sys.stdout
    # A year of actions would log thousands of audit lines over the progress bars.
    logging.getLogger("forum").setLevel(logging.WARNING)
    if posts < 0 or scale <= 0:
        print("error: --posts and --scale cannot be negative", file=sys.stderr)
        return 2
    try:
        store = open_store(db)
    except ValueError as error:  # a URL of no store it knows: the line says which it takes
        print(f"error: {error}", file=sys.stderr)
        return 2
    bars = ProgressBars()
    try:
        await prepare_store(store)
        state = await database_state(store)
        if state != "empty" and not force:
            what = (
                "the demo data is already loaded"
                if state == "demo"
                else "the database is not empty (it has accounts or posts)"
            )
            print(f"error: {what}; add --force to load anyway", file=sys.stderr)
            return 1
        loaded = None
        if state == "demo":
            print("the demo accounts exist already: demo content skipped", file=sys.stderr)
        else:
            loaded = await load_demo(
                store,
                passwords or Passwords(Config().password_cost),
                scale=scale,
                progress=lambda done, total: bars("demo (days)", done, total),
            )
        if posts:
            started = time.monotonic()
            await add_bulk_posts(
                store, posts, progress=lambda done, total: bars("forum posts", done, total)
            )
            bars.close()
            print(f"added {posts} forum posts in {time.monotonic() - started:.1f}s", file=out)
        bars.close()
    except (DomainError, LookupError) as exc:
        bars.close()
        if isinstance(exc, StoreUnavailable):
            raise  # server.py says what to check, in one line, as for every command
        print(f"error: demo failed: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    if loaded is not None:
        print(describe(loaded), file=out)
    return 0


def describe(loaded: Loaded) -> str:
    """The accounts of a load, by role, with the one password, as the command prints them."""
    lines = [
        f"demo data loaded in {loaded.seconds:.0f}s: {loaded.posts} posts, "
        f"{loaded.replies} replies, {len(loaded.accounts)} accounts",
        "",
        f"password of every demo account: {loaded.password}",
        "",
    ]
    for role in ROLE_ORDER:
        people = [a for a in loaded.accounts if a.role == role]
        if role == "citizen":
            lines.append(f"{role:<10} {', '.join(a.username for a in people)}")
            continue
        for account in people:
            # Staff and moderators carry their office in their names; answerers their fields.
            detail = f"：{account.detail}" if role in ("lawyer", "expert") else ""
            lines.append(f"{role:<10} {account.username:<16} {account.display_name}{detail}")
    if loaded.tracking_codes:
        title, code = loaded.tracking_codes[0]
        lines += ["", f"a tax report filed without an account (follow it at /track): {code}"]
    return "\n".join(lines)
