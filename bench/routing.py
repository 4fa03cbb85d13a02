"""Routing alone: the application's `find_handler` for a few representative paths, timed in
process (no server, no socket), so that the number does not move with what else the machine
runs. Not a test: run it by hand and read the numbers.

    python bench/routing.py [--number 20000] [--repeat 7]

For each path: the best of `--repeat` runs of `--number` calls, in microseconds a call, for the
application as make_app builds it and for a plain Tornado application over the same rules
(Tornado's own router, trying every rule in turn: what every request paid before
forum/web/routing.py), and how many patterns each tries for it, which no load on the machine
moves.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tornado.web  # noqa: E402
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine  # noqa: E402

from forum.app import make_app  # noqa: E402
from forum.config import Config  # noqa: E402
from forum.store import open_store  # noqa: E402

PATHS = {
    "board page": "/boards/forum",
    "post page": "/posts/65a1f0c2e4b0a1b2c3d4e5f6",
    "search": "/search?q=%E5%81%9C%E8%BD%A6",
    "API post's replies": "/api/v1/posts/65a1f0c2e4b0a1b2c3d4e5f6/replies",
    "404": "/no-such-page/here",
}


def request_for(uri: str) -> HTTPServerRequest:
    return HTTPServerRequest(
        start_line=RequestStartLine("GET", uri, "HTTP/1.1"),
        headers=HTTPHeaders({"Host": "localhost"}),
        connection=None,
    )


def linear(app: tornado.web.Application) -> tornado.web.Application:
    """A plain Tornado application over the rules `app` routes by, in their order."""
    plain = tornado.web.Application(default_handler_class=app.settings["default_handler_class"])
    plain.wildcard_router.add_rules(app.wildcard_router.rules)
    return plain


def tried(rules: list[Any], uri: str) -> int:
    """How many of `rules` are tried, in order, until one matches `uri`'s path."""
    path = uri.partition("?")[0]
    for count, rule in enumerate(rules, 1):
        if rule.matcher.regex.match(path):
            return count
    return len(rules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/forum.db")  # never opened: routing reads nothing
        app = make_app(Config(cookie_secret="bench-" + "x" * 32), store)
    apps = {"app": app, "linear": linear(app)}
    router = app.wildcard_router
    rules = router.rules
    print(f"{len(rules)} rules; µs per find_handler, best of {args.repeat}; patterns tried")
    print(f"{'path':<22} " + " ".join(f"{name:>8}" for name in apps) + "   tried: app, linear")
    for name, uri in PATHS.items():
        request = request_for(uri)
        times = []
        for routed in apps.values():
            runs = timeit.repeat(
                lambda: routed.find_handler(request), number=args.number, repeat=args.repeat
            )
            times.append(min(runs) / args.number * 1e6)
        own = router.candidates(uri.partition("?")[0]) if hasattr(router, "candidates") else rules
        counts = f"{tried(own, uri):>11}, {tried(rules, uri)}"
        print(f"{name:<22} " + " ".join(f"{t:8.2f}" for t in times) + counts)


if __name__ == "__main__":
    main()
