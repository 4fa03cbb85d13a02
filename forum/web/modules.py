"""Small template pieces reused across pages ({% module Name(...) %}): a post in a list, a reply,
a case's summary and history, the follow button, paging and a form's errors and outcome. The
pieces that show statistics are in figures.py; the words pieces show, in labels.py."""

from __future__ import annotations

import collections
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

import tornado.web

from forum.model import Department, Post, ReplyKind, Role, Status, Subscription, User
from forum.services.presenting import Author, BoardView, EventView, PostView, ReplyView
from forum.services.searching import Result
from forum.web import i18n
from forum.web.labels import (
    DONE_WORDS,
    EVENT_LABELS,
    EXTENSION_LABELS,
    FIELD_LABELS,
    LOGIN_LABELS,
    OFFICE_ACTORS,
    RATING_LABELS,
    REPLY_LABELS,
    STATUS_LABELS,
    WRITE_LABELS,
    department_names,
    event_note,
)


def file_size(size: int) -> str:
    """A file's size in KB (at least 1), or MB from 1000 KB on."""
    if size >= 1000 * 1000:
        return f"{size / 1000 / 1000:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"


def failed_form(values: dict[str, Any], errors: dict[str, str]) -> str | None:
    """Which form on the post page the errors belong to: each form names itself in a hidden
    `form` field."""
    form = values.get("form") if errors else None
    return form if isinstance(form, str) else None


class Piece(tornado.web.UIModule):
    """A module of a page (a list item, a reply, a badge, a follow button): rendered with the
    page's template namespace, built once per request. Tornado's render_string builds it
    again for every module, and a board page has twenty-five."""

    # Bytes, as Tornado's own render_string gives them: a piece's render() hands them on, and
    # Tornado writes them into the page (decoding them on every item would cost the page).
    def render_string(self, path: str, **kwargs: Any) -> bytes:
        handler = self.handler
        where = handler.get_template_path()
        loader = None if where is None else tornado.web.RequestHandler._template_loaders.get(where)
        if loader is None:  # the page's own template is not loaded yet: Tornado's way
            return super().render_string(path, **kwargs)
        namespace = handler.__dict__.get("_piece_namespace")
        if namespace is None:
            namespace = handler.get_template_namespace()
            setattr(handler, "_piece_namespace", namespace)  # kept for the request's next piece
        return loader.load(path).generate(**{**namespace, **kwargs})

    def kept(self, inputs: tuple[Any, ...] | None, render: Callable[[], bytes]) -> bytes:
        """What `render` makes, from the application's shelf of fragments when these exact
        inputs (with the piece and the language) were rendered before. `inputs` must hold
        everything the piece's template reads, so that it is a pure function of them: a
        masked title and the original are different inputs, and never share a fragment.
        None: not kept (the piece holds something of one request, such as a form's token)."""
        shelf: Fragments | None = self.handler.settings.get("fragments")
        if shelf is None or inputs is None:
            return render()
        key = (type(self).__name__, self.locale.code, *inputs)
        found = shelf.get(key)
        if found is None:
            found = render()
            shelf.put(key, found)
        return found


class Fragments:
    """Rendered list items and replies, keyed by everything they are made from (Piece.kept);
    bounded, least recently used out first. A board page or a post page read by logged-in
    readers shows the same items to most of them: each is rendered once, not per request.
    Nothing here can be stale: a changed post is a different key (its title, its count of
    replies, ...), and the old fragment is merely never asked for again."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._items: collections.OrderedDict[tuple[Any, ...], bytes] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], fragment: bytes) -> None:
        self._items[key] = fragment
        if len(self._items) > self.max_entries:
            self._items.popitem(last=False)


class StatusBadge(Piece):
    def render(self, status: Status) -> bytes:
        return self.render_string(
            "modules/status_badge.html",
            status=status,
            label=i18n.translate_in(self.locale, "状态", STATUS_LABELS[status]),
        )


def _author_inputs(author: Author | None) -> tuple[Any, ...] | None:
    if author is None:
        return None
    return (author.username, author.display_name, author.badge, tuple(author.specialties))


class PostSummary(Piece):
    """One post in a list. `departments` (slug -> name), given for case boards, adds who
    handles a case, when it was answered and whether it is overdue."""

    def render(
        self, view: PostView, show_board: bool = False, departments: dict[str, str] | None = None
    ) -> bytes:
        post = view.post
        # Everything templates/modules/post_summary.html reads.
        inputs = (
            post.id,
            post.title,
            post.pinned,
            post.locked,
            post.status,
            view.overdue,
            view.may_rate,
            post.board if show_board else None,
            _author_inputs(view.author),
            post.created_at,
            post.reply_count,
            post.category,
            departments is not None,
            departments.get(post.department, post.department)
            if departments is not None and post.department
            else None,
            post.replied_at,
        )
        return self.kept(
            inputs,
            lambda: self.render_string(
                "modules/post_summary.html",
                view=view,
                post=post,
                show_board=show_board,
                departments=departments,
            ),
        )


# Where a search result's snippet goes in its kept fragment: markup no text can make, since
# every text in the item but the snippet is escaped (a title's "<" is "&lt;").
SNIPPET_SLOT = b"<!--snippet-->"


class SearchResults(Piece):
    """The posts of a page of search results, each item kept as a fragment around its snippet
    (which is the query's), so a post that was found before costs its snippet alone. One piece
    for the list: Tornado decodes and the page encodes again what each piece gives."""

    def render(self, items: Iterable[Result]) -> bytes:
        parts: list[bytes] = []
        for item in items:
            view = item.view
            post = view.post
            # Everything templates/modules/search_result.html reads but the snippet.
            inputs = (
                post.id,
                post.title,
                post.status.value,
                post.board,
                _author_inputs(view.author),
                post.created_at,
                post.reply_count,
            )
            around = self.kept(
                inputs,
                lambda: self.render_string(
                    "modules/search_result.html", view=view, post=post, snippet=SNIPPET_SLOT
                ),
            )
            before, _, after = around.partition(SNIPPET_SLOT)
            parts += (before, item.snippet.encode(), after)
        return b"".join(parts)


class ReplyItem(Piece):
    """One reply; with `post` and `may_accept` an answer also offers the asker's accept form.
    On a case (`case`), an official reply is signed by its department (`department`, a name),
    not by the official, and the writer's follow-ups are 追加说明."""

    def render(
        self,
        view: ReplyView,
        post: Post | None = None,
        may_accept: bool = False,
        case: bool = False,
        department: str | None = None,
    ) -> bytes:
        reply = view.reply
        label = REPLY_LABELS[reply.kind]
        if case and reply.kind is ReplyKind.FOLLOW_UP:
            label = "追加说明"
        # Everything templates/modules/reply_item.html reads; the accept form carries this
        # request's XSRF token, so a reply that shows it is rendered every time.
        inputs = (
            None
            if may_accept
            else (
                reply.id,
                reply.kind,
                reply.accepted,
                reply.html,
                reply.created_at,
                post.accepted_reply_id if post is not None else None,
                case,
                department,
                label,
                _author_inputs(view.author),
            )
        )
        return self.kept(
            inputs,
            lambda: self.render_string(
                "modules/reply_item.html",
                view=view,
                reply=reply,
                label=self.locale.translate(label),
                post=post,
                may_accept=may_accept,
                case=case,
                department=department,
            ),
        )


class CaseSummary(Piece):
    """A case's state at a glance: status, department, due times, publicity, contact, the
    reason of a rejection or hiding, the rating. `departments`: the store's list, when known;
    `show_contact`: False where the contact is not needed (following by tracking code)."""

    def render(
        self,
        view: PostView,
        departments: Iterable[Department] | None = (),
        show_contact: bool = True,
    ) -> bytes:
        return self.render_string(
            "modules/case_summary.html",
            view=view,
            post=view.post,
            names={
                slug: self.locale.translate(name)
                for slug, name in department_names(departments).items()
            },
            ratings=RATING_LABELS,
            EXTENSION_LABELS=EXTENSION_LABELS,
            show_contact=show_contact,
        )


class Timeline(Piece):
    """A case's events, oldest first: when, who (by office), what, and the note."""

    def render(self, events: list[EventView], heading_id: str = "timeline-heading") -> bytes:
        return self.render_string(
            "modules/timeline.html",
            events=events,
            labels=EVENT_LABELS,
            offices=OFFICE_ACTORS,
            heading_id=heading_id,
            event_note=event_note,
        )


class FollowButton(Piece):
    """关注 / 已关注（取消关注）: a form that follows `target`, or, when `subscription` is the
    viewer's, one that unfollows it; both come back to `back`. Visitors get a link to log in
    (and no form: the page stays the same for every visitor, so it may be cached)."""

    def render(
        self,
        target: str,
        subscription: Subscription | None,
        back: str,
        name: str = "",
        flash: dict[str, Any] | None = None,
    ) -> bytes:
        return self.render_string(
            "modules/follow_button.html",
            target=target,
            subscription=subscription,
            back=back,
            name=name,
            flash=flash or {},
        )


class Pagination(Piece):
    """下一页, and where the list can go back (`prev_cursor`), 上一页; 回到第一页 when deep."""

    def render(
        self,
        next_cursor: str | None,
        path: str,
        prev_cursor: str | None = None,
        **query: str | None,
    ) -> bytes:
        params = {k: v for k, v in query.items() if v}
        next_url = prev_url = None
        if next_cursor:
            next_url = path + "?" + urlencode({**params, "cursor": next_cursor})
        if prev_cursor:
            prev_url = path + "?" + urlencode({**params, "before": prev_cursor})
        first_url = path + ("?" + urlencode(params) if params else "")
        deep = "cursor" in self.request.arguments or "before" in self.request.arguments
        return self.render_string(
            "modules/pagination.html",
            next_url=next_url,
            prev_url=prev_url,
            first_url=first_url,
            deep=deep,
        )


class ErrorSummary(Piece):
    """The list of wrong fields at the top of a form; each links to its field when the form
    shows it (`linked`, all of them when not given)."""

    def render(self, errors: dict[str, str], linked: Iterable[str] | None = None) -> bytes:
        return self.render_string(
            "modules/error_summary.html",
            errors=errors,
            labels=FIELD_LABELS,
            linked=set(errors) if linked is None else set(linked),
        )


class Done(Piece):
    """The confirmation after a form (what happened), with the way back to the work list for
    officials; a welcome after registering."""

    def render(self, flash: dict[str, Any], user: User | None) -> bytes:
        done = flash.get("done")
        back = None
        if done and user is not None:
            if user.moderates:
                back = "/moderation"
            elif user.has(Role.STAFF) and user.department:
                back = f"/departments/{user.department}"
        return self.render_string(
            "modules/done.html",
            done=DONE_WORDS.get(done or ""),
            welcome=flash.get("welcome"),
            back=back,
        )


class FieldError(Piece):
    def render(self, errors: dict[str, str], name: str) -> bytes:
        return self.render_string("modules/field_error.html", name=name, message=errors.get(name))


def write_link(board: BoardView, user: User | None) -> tuple[str, str, bool] | None:
    """(address, label, primary) of the board's write button for this viewer: straight to the
    form for those who may post, to the login (coming back to the form) for visitors where
    citizens may post; None where neither."""
    form = f"/boards/{board.slug}/new"
    if board.may_post:
        return form, WRITE_LABELS.get(board.slug, "发帖"), True
    if (
        user is None
        and board.settings.is_open
        and Role.CITIZEN in board.policy.posters
        and board.slug in LOGIN_LABELS
    ):
        return "/login?" + urlencode({"next": form}), LOGIN_LABELS[board.slug], False
    return None
