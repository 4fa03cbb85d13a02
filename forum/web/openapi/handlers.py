"""The handlers: the document as served at /api/openapi.json, and the reference page at
/api/docs."""

from __future__ import annotations

from forum.web.base import CONTENT_SECURITY_POLICY, ApiHandler
from forum.web.openapi.document import document_json
from forum.web.pages import PageHandler


class OpenApiHandler(ApiHandler):
    async def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")  # revalidated by ETag
        self.finish(document_json())


class ApiDocsPage(PageHandler):
    """The API reference, rendered in the browser by Redoc from /api/openapi.json."""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        # Redoc styles its components with styled-components, which writes <style> elements
        # at run time; that needs 'unsafe-inline' for styles, on this page only. Scripts stay
        # 'self' only: no inline script, no eval (the bootstrap is static/api-docs.js). Redoc
        # also carries a small icon font as a data: URL, which it loads when the schemas it
        # draws need it; fonts run no code.
        self.set_header(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY.replace(
                "style-src 'self'", "style-src 'self' 'unsafe-inline'; font-src 'self' data:"
            ),
        )

    async def get(self) -> None:
        self.render("api_docs.html")
