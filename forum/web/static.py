"""Files under static/, as Tornado's static handler serves them, with the headers the
application's own answers carry: nosniff, and a charset on every text type (ASVS V3.4.4,
V4.1.1). In the documented deployment nginx serves /static/ itself (deploy/nginx.conf) with
the same headers."""

from __future__ import annotations

from typing import Any

import tornado.web

from forum.web.base import SERVER_HEADER

TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


class StaticFiles(tornado.web.StaticFileHandler):
    def set_default_headers(self) -> None:
        self.set_header(*SERVER_HEADER)

    def set_extra_headers(self, path: str) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")

    def get_content_type(self) -> str:
        kind = super().get_content_type()
        if kind.startswith(TEXT_TYPES) and "charset=" not in kind:
            return f"{kind}; charset=UTF-8"
        return kind


class Favicon(StaticFiles):
    """/favicon.ico, which browsers and feed readers ask for on their own: the icon in static/
    (pages link static/favicon.svg)."""

    def initialize(
        self,
        path: str | None = None,
        default_filename: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        # The icon is in static/, whatever `path` a route gives; the static handler's other
        # arguments (tornado 6.6's allowed_symlink_directory, which 6.5 has not) are its own.
        super().initialize(self.settings["static_path"], default_filename, *args, **kwargs)
