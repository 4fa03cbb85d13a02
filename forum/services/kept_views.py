"""Views kept on the records they were made from (forum/services/presenting.py builds them).

A record is not changed once read: the store hands out a fresh one after every write, and
forum/store/kept.py hands the same one to every request while the content version stands. So
what is made from a record (its public form, a viewer's view of it, a list's views) can be kept
on the record itself, and is dropped with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from forum import workflow
from forum.model import Post, User

if TYPE_CHECKING:
    from forum.services.presenting import PostView


def kept_form(record: Any, make: Callable[[Any], Any]) -> Any:
    """`make(record)`, made once per record object and kept on it: privacy's public form of a
    post or a reply, or the texts a search matches. Masking the twenty posts of a board page is
    done once, not per reader. Kept under the function that made it, so a reply's public form is
    never a post's."""
    forms = record.__dict__.setdefault("_kept_forms", {})
    found = forms.get(make)
    if found is None:
        found = forms[make] = make(record)
    return found


def kept_on(record: Any, key: Any, records: tuple[Any, ...], make: Callable[[], Any]) -> Any:
    """What `make` gives, kept on `record` under `key`: made again when `records` (the other
    records it was made from, such as the author's) are not the very objects it was made from.
    The key fixes how many `records` there are."""
    kept: dict[Any, tuple[tuple[Any, ...], Any]] = record.__dict__.setdefault("_views", {})
    found = kept.get(key)
    if found is not None and all(a is b for a, b in zip(found[0], records)):
        return found[1]
    made = make()
    kept[key] = (records, made)
    return made


@dataclass
class ViewList:
    """A list's views (present_posts), kept on its first record for the next reader who stands
    alike to every post of it: the same roles, department and standing, and the writer of none
    (an author's view of their own post is theirs). A board page for signed-in readers lists the
    same records to all of them while the content version stands, and making its twenty views,
    even kept one by one (presenting._kept_view), was a tenth of the page.

    The clock decides two things of a view (presenting._kept_view): the edit window, only an
    author's (presenting._may_edit), and overdue, which turns at each post's due time. So the
    list holds from the last due time before it was made to the first one after."""

    posts: list[Post]
    people: list[User | None]  # the authors, then the officers, as present_posts reads them
    writers: frozenset[str]
    after: dt.datetime | None
    until: dt.datetime | None
    views: list[PostView]

    PER_RECORD = 8  # readers' kinds (roles, department) kept on one record; it starts again

    @staticmethod
    def _reader(viewer: User | None) -> tuple[Any, ...] | None:
        return None if viewer is None else (viewer.disabled, tuple(viewer.roles), viewer.department)

    @classmethod
    def kept(
        cls, posts: list[Post], viewer: User | None, people: list[User | None], at: dt.datetime
    ) -> list[PostView] | None:
        if not posts:
            return None
        found: ViewList | None = posts[0].__dict__.get("_view_lists", {}).get(cls._reader(viewer))
        if (
            found is None
            or len(found.posts) != len(posts)
            or (viewer is not None and viewer.id in found.writers)
            or (found.after is not None and at <= found.after)
            or (found.until is not None and at > found.until)
            or not all(a is b for a, b in zip(found.posts, posts))
            or not all(a is b for a, b in zip(found.people, people))
        ):
            return None
        return found.views

    @classmethod
    def keep(
        cls,
        posts: list[Post],
        viewer: User | None,
        people: list[User | None],
        at: dt.datetime,
        views: list[PostView],
    ) -> None:
        writers = frozenset(p.author_id for p in posts if p.author_id)
        if not posts or (viewer is not None and viewer.id in writers):
            return
        dues = [due for p in posts if (due := workflow.due_in_status(p)) is not None]
        lists = posts[0].__dict__.setdefault("_view_lists", {})
        if len(lists) >= cls.PER_RECORD:
            lists.clear()
        lists[cls._reader(viewer)] = cls(
            list(posts),
            people,
            writers,
            max((due for due in dues if due < at), default=None),
            min((due for due in dues if due >= at), default=None),
            views,
        )
