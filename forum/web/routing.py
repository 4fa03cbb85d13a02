"""Routing that tries only the rules a path could match, in the URL table's order.

Tornado's router tries the application's rules one by one, a regular expression each, until one
matches. The portal has 125 (Tornado's three for static files, the JSON API, Open311, then the
pages): a board page tried 74 patterns, a post page 77, a search 122 and an unknown path all
125, 12–17 µs of the application's `find_handler` in process, about 6% of a logged-in page
request in the profile. Nearly every pattern begins with fixed path segments (`/boards/`,
`/api/v1/posts/`, `/healthz`), and a path can match a rule only if it begins with the rule's.
So the rules are filed in a tree by those segments, and each branch holds, made once and in the
table's order, the rules filed there or above it; a rule whose pattern this module cannot read
for sure (another matcher, a flag, what may be an alternation, no fixed first segment) sits at
the root, in every list at its place. A path walks down the tree by its own segments as far as
it goes and tries that branch's rules: the first that matches is the one Tornado's loop would
have found, as the same matchers run on the same `request.path` in the same order
(tests/web/test_routing.py holds it to Tornado's own router). Now a board, post or search page
tries one pattern and an unknown path none: `find_handler` takes 2.1–3.8 µs for them
(bench/routing.py; docs/PERFORMANCE.md, step 49).
"""

from __future__ import annotations

import re
from typing import Any

import tornado.web
from tornado import httputil
from tornado.routing import PathMatches, Rule, _RuleList

# The router Tornado makes for an application's rules (handler classes as targets, lists of
# rules as nested routers): extended rather than written again, so that only which rules are
# tried changes.
from tornado.web import _ApplicationRouter

# Characters that stand for something other than themselves in a pattern. Any other character,
# or one of these escaped, matches only itself (no flags are allowed: see literal_segments).
SPECIAL = frozenset(".^$*+?{}[]\\|()")
# What may follow `/` and make it optional or repeated, so that it ends no segment.
QUANTIFIERS = ("?", "*", "+", "{")
# Groups after `(?` that keep a `|` inside them: non-capturing, named, a named group's
# back-reference, lookarounds. Any other (comments, flags such as `(?x:` that make `#` start a
# comment) could hide a `|` from may_alternate.
PLAIN_GROUPS = (":", "P<", "P=", "=", "!", "<=", "<!")


def literal_segments(rule: Rule) -> tuple[str, ...]:
    """The segments every path `rule` matches begins with (`("boards",)` for
    `/boards/([a-z-]+)`, `("api", "v1", "posts")` for `/api/v1/posts/([0-9a-f]{24})/replies`,
    `("",)` for `/`), or () when that cannot be read for sure: another matcher than
    PathMatches, a bytes pattern, any flag (`(?i)`, re.I), or what may be an alternation of
    the whole pattern."""
    matcher = rule.matcher
    if type(matcher) is not PathMatches:
        return ()
    regex = matcher.regex
    if not isinstance(regex.pattern, str) or regex.flags != re.UNICODE:
        return ()
    if may_alternate(regex.pattern):
        return ()
    return pattern_segments(regex.pattern)


def pattern_segments(pattern: str) -> tuple[str, ...]:
    """The segments at the start of `pattern` that are plain text (characters, escaped ones, a
    capturing group of them), each ended by a `/` that no quantifier follows or by the
    pattern's final `$`. The pattern must hold no alternation of its whole (may_alternate)."""
    if not pattern.startswith("/") or pattern[1:2] in QUANTIFIERS:
        return ()
    segments: list[str] = []
    segment: list[str] = []
    in_group = False
    at, end = 1, len(pattern)
    while at < end:
        char = pattern[at]
        at += 1
        if char == "\\":
            if at == end or (pattern[at].isascii() and pattern[at].isalnum()):
                break  # a class (\d, \w), an anchor (\A, \b) or a back-reference
            char = pattern[at]
            at += 1
        elif char == "(" and not in_group and pattern[at : at + 1] != "?":
            in_group = True  # a capturing group of plain text matches that text
            continue
        elif char == ")" and in_group:
            in_group = False
            continue
        elif char == "$" and at == end and not in_group:
            segments.append("".join(segment))  # the path's end, or its end before a newline
            break
        elif char in SPECIAL:
            break
        if char == "\n":
            break  # it would be taken for the final newline `$` lets pass (path_segments)
        if char != "/":
            segment.append(char)
            continue
        if in_group or pattern[at : at + 1] in QUANTIFIERS:
            break
        segments.append("".join(segment))
        segment = []
    # The segment being read when something else came is not known whole: only those before.
    return tuple(segments)


def may_alternate(pattern: str) -> bool:
    """Whether `pattern` may be an alternation of its whole (`/a|/b`, a `|` outside every
    group), or holds what could hide one from this reading (a comment, a group with flags of
    its own, brackets that do not pair)."""
    depth = 0
    at, end = 0, len(pattern)
    while at < end:
        char = pattern[at]
        if char == "\\":
            at += 2
            continue
        if char == "[":
            at = class_end(pattern, at)
            if at < 0:
                return True
            continue
        if char == "(":
            if pattern.startswith("(?", at) and not pattern.startswith(PLAIN_GROUPS, at + 2):
                return True
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return True
        elif char == "|" and depth == 0:
            return True
        at += 1
    return depth != 0


def class_end(pattern: str, start: int) -> int:
    """Where the character class opened at `start` ends (the index after its `]`), or -1 when
    it does not. A `]` first in the class (after `[` or `[^`) is one of its characters."""
    at = start + 1
    if pattern[at : at + 1] == "^":
        at += 1
    if pattern[at : at + 1] == "]":
        at += 1
    while at < len(pattern):
        if pattern[at] == "\\":
            at += 2
        elif pattern[at] == "]":
            return at + 1
        else:
            at += 1
    return -1


class Branch:
    """A place in the tree of segments: the rules a path reaching it could match, in order,
    and the branches one segment further."""

    __slots__ = ("rules", "deeper")

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.deeper: dict[str, Branch] = {}


class SegmentRouter(_ApplicationRouter):
    """Tornado's application router, trying for each path only the rules filed under the
    segments it begins with and the rules that could match any path, in the order the rules
    were given."""

    def __init__(
        self, application: tornado.web.Application, rules: _RuleList | None = None
    ) -> None:
        self.root = Branch([])
        self.depth = 0  # the most segments any rule is filed under
        self.indexed = 0
        super().__init__(application, rules)

    def add_rules(self, rules: _RuleList) -> None:
        super().add_rules(rules)
        self.index()

    def index(self) -> None:
        """The tree made again from `self.rules`."""
        filed = [(rule, literal_segments(rule)) for rule in self.rules]
        places = {segments[:depth] for _, segments in filed for depth in range(len(segments) + 1)}
        branches = {
            place: Branch([rule for rule, segments in filed if place[: len(segments)] == segments])
            for place in places
        }
        for place, branch in branches.items():
            if place:
                branches[place[:-1]].deeper[place[-1]] = branch
        self.root = branches[()]
        self.depth = max(map(len, branches))
        self.indexed = len(self.rules)

    def candidates(self, path: str) -> list[Rule]:
        """The rules a request for `path` could match, in order."""
        if len(self.rules) != self.indexed:
            self.index()  # rules put in `self.rules` by hand, as Tornado does with its own lists
        branch = self.root
        if path[:1] != "/":
            return branch.rules
        # Never more segments than the tree is deep: a path of many slashes costs no more.
        for segment in path_segments(path, self.depth):
            deeper = branch.deeper.get(segment)
            if deeper is None:
                break
            branch = deeper
        return branch.rules

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> httputil.HTTPMessageDelegate | None:
        # RuleRouter.find_handler's loop, over the candidates instead of every rule.
        for rule in self.candidates(request.path):
            target_params = rule.matcher.match(request)
            if target_params is not None:
                if rule.target_kwargs:
                    target_params["target_kwargs"] = rule.target_kwargs
                delegate = self.get_target_delegate(rule.target, request, **target_params)
                if delegate is not None:
                    return delegate
        return None


def path_segments(path: str, most: int = -1) -> list[str]:
    """The segments of `path` (which begins with `/`), as literal_segments gives a matching
    rule's: the first `most` of them and the rest of the path as one, or all when `most` is -1.
    The last may end in a newline, which `$` lets pass (PathMatches matches `pattern$`): it is
    not counted."""
    segments = path.split("/", most if most < 0 else most + 1)
    del segments[0]
    if path[-1:] == "\n":
        segments[-1] = segments[-1][:-1]
    return segments


class SegmentRouting(tornado.web.Application):
    """The application, its rules routed by SegmentRouter. Tornado builds its router from the
    rules (with the static files' rules it puts first) and offers no way to choose its class:
    the router it made is replaced by one over the same rules, in the same place."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        built = self.wildcard_router
        self.wildcard_router = SegmentRouter(self, built.rules)
        placed = [rule for rule in self.default_router.rules if rule.target is built]
        assert len(placed) == 1, "Tornado's default router no longer holds its wildcard router"
        placed[0].target = self.wildcard_router
