"""Search, and the "check similar questions" step of asking."""

from __future__ import annotations

from forum.errors import Invalid
from forum.services import searching
from forum.web.pagecache import AnonymousPageCache
from forum.web.pages import PageHandler


class SearchPage(AnonymousPageCache, PageHandler):
    page_shelf = "searches"  # popular words repeat in a burst; the long tail stays on its shelf

    async def get(self) -> None:
        asked = {
            name: self.get_query_argument(name, "") for name in ("q", "board", "sort", "from", "to")
        }
        results, errors = await self._results(asked) if asked["q"].strip() else (None, {})
        await self.render_page(
            "search.html",
            422 if errors else 200,
            query=asked["q"],
            board=asked["board"] or None,
            sort=asked["sort"],
            since=asked["from"],
            until=asked["to"],
            results=results,
            errors=errors,
        )

    async def _results(
        self, asked: dict[str, str]
    ) -> tuple[searching.Results | None, dict[str, str]]:
        try:
            return await searching.search_posts(
                self.store,
                self.user,
                asked["q"],
                board=asked["board"] or None,
                cursor=self.get_query_argument("cursor", None),
                address=self.address,
                sort=asked["sort"] or None,
                since=asked["from"],
                until=asked["to"],
            ), {}
        except Invalid as error:
            return None, error.fields


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
