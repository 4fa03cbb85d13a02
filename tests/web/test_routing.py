"""Routing by segments (forum/web/routing.py) against Tornado's own: for every rule of the URL
table, paths that match it and paths meant to trip a shortcut, the application reaches the
handler, with the arguments, that Tornado's plain loop over the same rules reaches."""

from __future__ import annotations

import itertools
import json
import re

import pytest
import tornado.web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.routing import HostMatches, PathMatches, Rule, RuleRouter, URLSpec
from tornado.util import re_unescape

from forum.app import routes
from forum.web import feeds, health, pages, post_pages
from forum.web.routing import (
    SegmentRouter,
    literal_segments,
    may_alternate,
    path_segments,
)

POST_ID = "65a1f0c2e4b0a1b2c3d4e5f6"

# Values for each capturing group of the URL table, by the group's pattern. A route with a new
# kind of group fails test_every_rule_is_reached_as_tornado_reaches_it until it is named here.
GROUP_VALUES = {
    r"[0-9a-fA-F]{24}": [POST_ID, POST_ID.upper()],
    r"[a-z0-9_-]{1,32}": ["forum", "mayor", "no-such_board"],
    r"[A-Za-z0-9_]{1,32}": ["hongta_laowang", "X"],
    r"[^/]{1,64}": ["AB12CD34", "%E4%B8%AD%20x", "跟踪码", "supplement"],
    r"[^/]{1,64}?": ["SR-1", "a.b", "%2F"],
    r"[A-Za-z0-9_-]{1,64}": ["service_1"],
    r"json|xml": ["json", "xml"],
    r".*": ["forum.css", "js/forum.js", "", "../forum.db"],
    r"[A-Za-z0-9_-]{20,100}": ["t" * 20, "A-b_" * 25],
    r"[^/]{1,16}": ["2026-01", "x"],
    r"favicon\.ico": ["favicon.ico"],
    r"robots\.txt": ["robots.txt"],
}
GROUP = re.compile(r"\(((?:[^()\\]|\\.)*)\)")

# Paths that no rule names as written, or that sit next to one: cases, slashes, dots,
# percent-encoding, newlines, other scripts, lengths.
HOSTILE = [
    "/",
    "//",
    "///",
    "/\n",
    "/boards",
    "/boards/",
    "/boards//",
    "/boards//forum",
    "/BOARDS/forum",
    "/Boards/forum",
    "/boards/Forum",
    "/boards/%66orum",
    "/%62oards/forum",
    "/boards%2Fforum",
    "/boards/forum/",
    "/boards/forum\n",
    "/boards/forum\n\n",
    "/boards/forum\r\n",
    "/boards/forum\x00",
    "/boards\n/forum",
    "/healthz\n",
    "/healthz\n\n",
    "/healthz/",
    "/healthz/\n",
    "/ healthz",
    "/healthz ",
    f"/posts/{POST_ID}/",
    f"/posts/{POST_ID}\n",
    f"/posts/{POST_ID}/flag/",
    f"/posts/{POST_ID[:-1]}",
    f"/posts/{POST_ID}0",
    f"/posts//{POST_ID}",
    "/api",
    "/api/",
    "/api/v1",
    "/api/v1/",
    "/api/v2/boards",
    "/api/v1/posts",
    "/api/v1/posts/",
    f"/api//v1/posts/{POST_ID}",
    f"/API/v1/posts/{POST_ID}",
    "/api/v1/auth/password-reset/confirm/",
    "/api/v1/statsXcsv",
    "/api/v1/stats.csv\n",
    "/api/openapiXjson",
    "/api/docs\n",
    "/..",
    "/../boards/forum",
    "/./boards/forum",
    "/boards/../admin",
    "/boards/forum/..",
    "/%2e%2e/admin",
    "/static/../forum.db",
    "/static",
    "/favicon.ico/",
    "/favicon.ICO",
    "/favicon.ico\n",
    "/faviconXico",
    "/robots.txt",
    "/stats.csv",
    "/open311",
    "/open311/",
    "/open311/v2",
    "/open311/v2/services.json",
    "/open311/v2/services.jsonx",
    "/open311/v2/servicesXjson",
    "/open311/v2/services.json/",
    "/track/supplement/",
    "/admin/",
    "/admin/users",
    "/admin\n",
    "/me/",
    "/me/notifications",
    "/boards/中文",
    "/板块/forum",
    "/%E6%9D%BF%E5%9D%97/forum",
    "/boards/forum?x=1",
    "/?q=/boards/forum",
    "/search?q=a/b&board=forum",
    "?",
    "?q=1",
    "*",
    "http://localhost/boards/forum",
    "boards/forum",
    "/#frag",
    "/boards/forum#x",
    "/" + "a" * 10000,
    "/boards/" + "a" * 5000,
    "/api/v1/posts/" + "0" * 24 + "/" + "x" * 5000,
    "/" + "/".join(["x"] * 2000),
    "/" + "/" * 2000,
]


class Linear(RuleRouter):
    """Tornado's RuleRouter as it is: every rule in order, the first that matches wins. It
    says which target it reached and with what, instead of making a delegate."""

    def get_target_delegate(self, target, request, **params):
        return target, params


def request_for(uri: str) -> HTTPServerRequest:
    return HTTPServerRequest(
        start_line=RequestStartLine("GET", uri, "HTTP/1.1"),
        headers=HTTPHeaders({"Host": "localhost"}),
        connection=None,
    )


def request_with_path(path: str) -> HTTPServerRequest:
    """A request whose path is `path` as it is, `?` and all (Tornado cuts a URI's at the `?`)."""
    request = request_for("/")
    request.path = path
    return request


def reached(app, request) -> tuple:
    """The handler class, its arguments and the path's arguments the application gives."""
    found = app.find_handler(request)
    return found.handler_class, found.handler_kwargs, found.path_args, found.path_kwargs


def reached_by_tornado(app, request) -> tuple:
    """The same, from Tornado's own loop over the application's rules."""
    found = Linear(app.wildcard_router.rules).find_handler(request)
    if found is None:
        return app.settings["default_handler_class"], {}, [], {}
    target, params = found
    return (
        target,
        params.get("target_kwargs", {}),
        params.get("path_args", []),
        params.get("path_kwargs", {}),
    )


def paths_of(rule: Rule) -> list[str]:
    """Paths the rule's pattern matches, each group given each of its values in turn."""
    pattern = rule.matcher.regex.pattern.removesuffix("$")
    pieces = GROUP.split(pattern)  # literal text, a group's pattern, literal text, ...
    literals = [re_unescape(piece.replace(".*", "\0")) for piece in pieces[::2]]
    groups = [GROUP_VALUES[piece] for piece in pieces[1::2]]
    rounds = max([len(values) for values in groups], default=1)
    paths = []
    for turn in range(rounds):
        chosen = [values[turn % len(values)] for values in groups]
        path = "".join(itertools.chain(*itertools.zip_longest(literals, chosen, fillvalue="")))
        paths.append(path.replace("\0", "any/thing"))
    return paths


def near(path: str) -> list[str]:
    """`path` and paths one step from it."""
    return [path, path + "\n", path + "/", path + "x", path[:-1], path.upper(), path + "?a=/b"]


def test_every_rule_is_reached_as_tornado_reaches_it(app):
    assert isinstance(app.wildcard_router, SegmentRouter)
    rules = app.wildcard_router.rules
    assert len(rules) == len(routes()) + 3  # Tornado's static files, robots.txt, favicon.ico
    checked = 0
    for rule in rules:
        own = paths_of(rule)
        assert all(rule.matcher.regex.match(path) for path in own), (rule, own)
        for uri in [variant for path in own for variant in near(path)]:
            for request in (request_for(uri), request_with_path(uri)):
                assert reached(app, request) == reached_by_tornado(app, request), uri
                checked += 1
    for uri in HOSTILE:
        for request in (request_for(uri), request_with_path(uri)):
            assert reached(app, request) == reached_by_tornado(app, request), uri
            checked += 1
    assert checked > 2000


def test_a_path_reaches_its_own_rule_first(app):
    """Handlers named for a few paths, so that a mistake both sides of the comparison above
    would share (the rules they are given, the requests made) still shows."""
    assert reached(app, request_for("/boards/forum")) == (
        post_pages.BoardPage,
        {},
        [b"forum"],
        {},
    )
    assert reached(app, request_for("/boards/forum/feed.atom"))[0] is feeds.BoardFeedHandler
    assert reached(app, request_for(f"/posts/{POST_ID}/flag"))[:3] == (
        post_pages.FlagPage,
        {},
        [POST_ID.encode()],
    )
    assert reached(app, request_for("/boards/%E4%B8%AD"))[0] is pages.NotFoundPage
    assert reached(app, request_for("/healthz\n"))[0] is health.HealthHandler


# Values for the property test: the segments the URL table names, and anything.
SEGMENTS = st.one_of(
    st.sampled_from(
        ["", "api", "v1", "posts", "boards", "forum", POST_ID, "admin", "users", "open311", "v2"]
        + ["services.json", "track", "supplement", "static", "favicon.ico", "..", "%2F", "\n"]
    ),
    st.text(max_size=8),
)
ENDINGS = st.sampled_from(["", "/", "\n", "?q=/x", "\n\n", "//"])


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_path_is_reached_as_tornado_reaches_it(app, data):
    rules = app.wildcard_router.rules
    matching = st.sampled_from(rules).flatmap(
        lambda rule: st.from_regex(rule.matcher.regex, fullmatch=True)
    )
    made = st.lists(SEGMENTS, max_size=7).map(lambda parts: "/" + "/".join(parts))
    path = data.draw(st.one_of(matching, made, st.text(max_size=20))) + data.draw(ENDINGS)
    request = request_with_path(path)
    assert reached(app, request) == reached_by_tornado(app, request)


# Patterns for the property tests of the analysis: pieces of paths and of regular expressions,
# some of which make what came before optional, repeated or one alternative.
PATTERN_PIECES = st.sampled_from(
    ["/", "/", "/", "a", "a", "b", "ab", r"\.", ".", "?", "*", "+", "{2}", "|", "(", ")"]
    + ["(?:", "[|]", "[^/]", "$", r"\d", r"\/", "\n", "^", r"\$", r"\\", "(a|b)", "[]/]"]
    + ["(?P<n>a)", "(?=a)", ".*", "([^/]+)"]
)
PATH_PIECES = st.sampled_from(["/", "/", "a", "A", "b", ".", "\n", "|", "(", "$", "\\", "ab", "]"])
FLAGS = st.sampled_from([0, 0, 0, re.IGNORECASE, re.MULTILINE, re.DOTALL])


def rule_of(pattern: str, flags: int, target=object) -> Rule | None:
    """A rule of `pattern` (with `$` put at its end as Tornado does, and the flags), or None
    when that is no pattern Tornado takes."""
    try:
        if flags:
            return Rule(PathMatches(re.compile(pattern + "$", flags)), target)
        return Rule(PathMatches(pattern), target)
    except (re.error, AssertionError):
        return None


def paths_for(data, rules: list[Rule]) -> list[str]:
    """Paths some of `rules` match, and paths near them."""
    paths = data.draw(st.lists(st.lists(PATH_PIECES, max_size=8).map("".join), max_size=6))
    for rule in rules:
        paths += data.draw(st.lists(st.from_regex(rule.matcher.regex), min_size=1, max_size=3))
    return paths


# Random patterns: some match nothing (a `$` or `^` inside, a lookahead the next piece
# contradicts), and a path drawn for one is filtered until Hypothesis gives up, which with
# some seeds took minutes. The same examples every run, so the suite's time is the same.
@settings(max_examples=300, deadline=None, derandomize=True)
@given(pieces=st.lists(PATTERN_PIECES, max_size=8), flags=FLAGS, data=st.data())
def test_a_path_a_pattern_matches_begins_with_its_segments(pieces, flags, data):
    """What routing rests on, for any pattern: whatever path it matches begins with the
    segments literal_segments reads in it."""
    rule = rule_of("/" + "".join(pieces), flags)
    if rule is None:
        return
    regex = rule.matcher.regex
    segments = literal_segments(rule)
    for path in paths_for(data, [rule]):
        if regex.match(path):
            assert path.startswith("/") or not segments, (regex.pattern, path)
            if path.startswith("/"):
                begins = tuple(path_segments(path)[: len(segments)])
                assert begins == segments, (regex.pattern, path)


# Rules that overlap: a shorter prefix before a longer one, a catch-all, a flag, an alternation.
OVERLAPPING = [
    "/a/([^/]+)",
    "/a/b",
    "/a/.*",
    "/a",
    "/(a)/b",
    "/a/b/",
    "(?i)/A/B",
    "/.*",
    "/a|/b/c",
    "/a/b|/c",
    "/a/?b",
    r"/a\.b",
    "/",
    "//",
    "/b/(a|b)",
    "/a/b/c",
]
HANDLERS = [type(f"Handler{n}", (tornado.web.RequestHandler,), {}) for n in range(8)]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    chosen=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(OVERLAPPING), st.just(0)),
            st.tuples(
                st.lists(PATTERN_PIECES, max_size=6).map(lambda pieces: "/" + "".join(pieces)),
                FLAGS,
            ),
        ),
        min_size=1,
        max_size=len(HANDLERS),
    ),
    data=st.data(),
)
def test_any_rules_in_any_order_are_tried_as_tornado_tries_them(chosen, data):
    rules = [
        rule_of(pattern, flags, handler) for (pattern, flags), handler in zip(chosen, HANDLERS)
    ]
    rules = [rule for rule in rules if rule is not None]
    application = tornado.web.Application()
    router = SegmentRouter(application, rules)
    for path in paths_for(data, rules) + ["/a/b", "/a/b/c", "/A/B", "/", "//", "/a.b", "/c"]:
        request = request_with_path(path)
        found = router.find_handler(request)
        linear = Linear(rules).find_handler(request)
        if linear is None:
            assert found is None, path
        else:
            target, params = linear
            assert found is not None, path
            assert (found.handler_class, found.path_args, found.path_kwargs) == (
                target,
                params.get("path_args", []),
                params.get("path_kwargs", {}),
            ), path


@pytest.mark.parametrize(
    "pattern, segments",
    [
        (r"/boards/([a-z-]+)", ("boards",)),
        ("/", ("",)),
        ("/healthz", ("healthz",)),
        (r"/api/v1/stats\.csv", ("api", "v1", "stats.csv")),
        (r"/api/v1/posts/([0-9a-f]{24})/replies", ("api", "v1", "posts")),
        (r"/(favicon\.ico)", ("favicon.ico",)),
        (r"/open311/v2/services\.(json|xml)", ("open311", "v2")),
        (r"/a\/b", ("a", "b")),
        ("/板块/x", ("板块", "x")),
        (r"/a/\(b\)/", ("a", "(b)", "")),
        ("/a/[|]/b", ("a",)),
        ("/a/[]|]", ("a",)),
        ("/a/[^]|]", ("a",)),
        ("/a/(x|y)", ("a",)),
        ("/a/(b/c)", ("a",)),
        ("/a/(b)?/c", ("a",)),
        ("/a/b?", ("a",)),
        (r"/x/y\$", ("x",)),
        (r"/a/\d", ("a",)),
        ("/a|/b", ()),
        ("/a/b|c", ()),
        ("(?i)/boards/x", ()),
        (re.compile("/boards/x$", re.IGNORECASE), ()),
        (re.compile("/boards/x$", re.MULTILINE), ()),
        ("/boards/x(?i:y)", ()),
        ("/a/(?#x)", ()),
        (r"/a\d/x", ()),
        (r"/x\$", ()),
        ("/a/?b", ()),
        ("/a/*", ()),
        ("/a/+b", ()),
        ("/a/{2}", ()),
        ("/?a", ()),
        ("^/a", ()),
        ("/a.b/c", ()),
        ("/a(/b)?", ()),
        ("/a\n", ()),
        ("a/b", ()),
    ],
)
def test_which_segments_a_pattern_says(pattern, segments):
    assert literal_segments(Rule(PathMatches(pattern), object)) == segments


def test_other_matchers_are_tried_for_every_path():
    assert literal_segments(Rule(HostMatches("example.com"), object)) == ()


@pytest.mark.parametrize("pattern", ["/a/[|", "/a/(b", "/a/b)|c", "/a/[]", "/a/(?#|)"])
def test_unreadable_patterns_may_alternate(pattern):
    assert may_alternate(pattern)


def test_paths_try_only_their_own_rules(app):
    router = app.wildcard_router
    targets = [rule.target for rule in router.candidates("/boards/forum")]
    assert targets == [post_pages.BoardPage, post_pages.NewPostPage, feeds.BoardFeedHandler]
    assert router.candidates("/no-such-page/here") == []
    assert len(router.candidates(f"/posts/{POST_ID}")) < len(router.rules) / 5
    assert len(router.candidates(f"/api/v1/posts/{POST_ID}/replies")) < len(router.rules) / 5


@pytest.mark.gen_test
async def test_an_unknown_path_gets_the_404_page(http_client, base_url):
    for path in ("/no-such-page/here", "/BOARDS/forum", "/boards/%E4%B8%AD", "/boards/"):
        response = await http_client.fetch(base_url + path, raise_error=False)
        assert response.code == 404, path
        assert "页面不存在" in response.body.decode(), path
    response = await http_client.fetch(base_url + "/api/v1/nothing", raise_error=False)
    assert response.code == 404 and json.loads(response.body)["error"]


@pytest.mark.gen_test
async def test_rules_added_after_start_are_found(app, http_client, base_url):
    app.wildcard_router.add_rules(
        [
            URLSpec(r"/late/([0-9]+)", health.HealthHandler, name="late"),
            (r"/late/health", health.HealthHandler),
            (r"(?i)/ANY-case", health.HealthHandler),
        ]
    )
    assert app.reverse_url("late", 7) == "/late/7"
    assert (await http_client.fetch(base_url + "/late/health")).code == 200
    assert (await http_client.fetch(base_url + "/any-CASE")).code == 200
    assert (await http_client.fetch(base_url + "/late/x", raise_error=False)).code == 404
    # Put in the list by hand, as Tornado does with its own lists, first in order.
    app.wildcard_router.rules.insert(0, Rule(PathMatches("/boards/forum"), health.HealthHandler))
    assert reached(app, request_for("/boards/forum"))[0] is health.HealthHandler
    # Another host's rules, tried before these (Application.add_handlers).
    app.add_handlers(r"localhost", [(r"/search", health.HealthHandler)])
    response = await http_client.fetch(base_url + "/search")
    assert json.loads(response.body)["status"] == "ok"


def test_the_rules_are_tornados_own(app):
    """The rules routed are those Tornado's application makes of the URL table, in order."""
    plain = tornado.web.Application(
        routes(),
        static_path=app.settings["static_path"],
        static_handler_class=app.settings["static_handler_class"],
    )

    def described(rules):
        return [
            (rule.matcher.regex.pattern, rule.target, rule.target_kwargs, rule.name)
            for rule in rules
        ]

    assert described(app.wildcard_router.rules) == described(plain.wildcard_router.rules)
