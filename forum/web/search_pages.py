"""Search, and the "check similar questions" step of asking."""

from __future__ import annotations

from forum.errors import Invalid
from forum.services import searching
from forum.web.pagecache import AnonymousPageCache
from forum.web.pages import PageHandler


class SearchPage(AnonymousPageCache, PageHandler):
    page_shelf = "searches"  # popular words repeat in a burst; the long tail stays on its shelf

    async def get(self) -> None:
        query = self.get_query_argument("q", "")
        board = self.get_query_argument("board", None) or None
        sort = self.get_query_argument("sort", "") or ""
        since = self.get_query_argument("from", "")
        until = self.get_query_argument("to", "")
        results = None
        errors: dict[str, str] = {}
        if query.strip():
            try:
                results = await searching.search_posts(
                    self.store,
                    self.user,
                    query,
                    board=board,
                    cursor=self.get_query_argument("cursor", None),
                    address=self.address,
                    sort=sort or None,
                    since=since,
                    until=until,
                )
            except Invalid as error:
                errors = error.fields
        await self.render_page(
            "search.html",
            422 if errors else 200,
            query=query,
            board=board,
            sort=sort,
            since=since,
            until=until,
            results=results,
            errors=errors,
        )


class SimilarPage(PageHandler):
    """The "check similar questions" step of asking, for browsers without JavaScript."""

    async def get(self) -> None:
        title = self.get_query_argument("title", "")
        board = self.get_query_argument("board", None) or None
        try:
            found = await searching.similar_with_faq(self.store, self.user, title, board=board)
        except Invalid as error:
            await self.render_page(
                "similar.html",
                422,
                title=title,
                board=board,
                found=[],
                faq_entries=[],
                errors=error.fields,
            )
            return
        await self.render_page(
            "similar.html",
            title=title,
            board=board,
            found=found.items,
            faq_entries=found.faq,
            errors={},
        )
