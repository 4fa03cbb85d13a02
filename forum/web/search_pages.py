"""Search, and the "check similar questions" step of asking."""

from __future__ import annotations

from typing import Any

from forum.errors import Invalid
from forum.services import posting, searching
from forum.web.pagecache import AnonymousPageCache
from forum.web.pages import PageHandler


class SearchPage(AnonymousPageCache, PageHandler):
    """The search page. A signed-in reader's page is kept around its query and its results
    (slots, see reader_pages.kept_page): every search asks something new, but the header, the
    form and the rest of the page are the same for all who look alike and filter alike."""

    page_shelf = "searches"  # popular words repeat in a burst; the long tail stays on its shelf
    kept_for_readers = True

    async def get(self) -> None:
        asked = {
            name: self.get_query_argument(name, "") for name in ("q", "board", "sort", "from", "to")
        }
        results, errors = await self._results(asked) if asked["q"].strip() else (None, {})
        shown: dict[str, Any] = {
            "board": asked["board"] or None,
            "sort": asked["sort"],
            "since": asked["from"],
            "until": asked["to"],
            "errors": errors,
        }
        query = asked["q"].strip()
        if results is None:
            await self.render_page(
                "search.html", 422 if errors else 200, query=query, results_html=None, **shown
            )
            return
        # Slots: the page is kept around them (the title and the form show the query).
        results_html = await self._results_html(asked["q"], results, shown)
        await self.render_page(
            "search.html", slots={"query": query, "results_html": results_html}, **shown
        )

    async def _results_html(
        self, query: str, results: searching.Results, shown: dict[str, Any]
    ) -> bytes:
        nav = await posting.navigation(self.store)
        return self.render_string(
            "search_results.html", query=query, results=results, nav=nav, **shown
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
