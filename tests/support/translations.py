"""The strings the pages show that must have an English translation: `_("...")` in the
templates, the labels of forum/web/labels.py, and the messages services raise."""

from __future__ import annotations

import ast
import csv
import re
from html.parser import HTMLParser
from pathlib import Path

from forum import boards, workflow
from forum.services import notify, presenting
from forum.web import i18n, labels

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = ROOT / "templates"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

_STRING = r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*\'"""
TEMPLATE_CALL = re.compile(rf"(?<![\w.])_\(\s*({_STRING})(?:\s*,\s*({_STRING})\s*,)?")
# _in("context", "text"): the text's own translation is the fallback, so it must exist too
CONTEXT_CALL = re.compile(rf"(?<![\w.])_in\(\s*(?:{_STRING})\s*,\s*({_STRING})\s*\)")

# Python files whose messages reach pages and API answers.
MESSAGE_SOURCES = [
    "forum/errors.py",
    "forum/workflow.py",
    "forum/services/*.py",
    "forum/store/*.py",
    "forum/web/base.py",
    "forum/web/*pages.py",
    "forum/web/api.py",
]
# Calls whose Chinese arguments are messages shown to people.
MESSAGE_CALLS = {
    "msg",
    "term",
    "fail",
    "_require",
    "DomainError",
    "NotLoggedIn",
    "BadCredentials",
    "Forbidden",
    "NotFound",
    "Conflict",
    "Invalid",
    "RateLimited",
    "StoreUnavailable",
    "BadPreference",
}


def template_keys() -> dict[str, set[str]]:
    """Each `_()` key in templates/ -> the files that use it. A call with a plural form yields
    (singular, plural) keys as "singular\\x00plural"."""
    found: dict[str, set[str]] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in TEMPLATE_CALL.finditer(text):
            key = ast.literal_eval(match.group(1))
            if match.group(2):
                key += "\x00" + ast.literal_eval(match.group(2))
            found.setdefault(key, set()).add(path.name)
        for match in CONTEXT_CALL.finditer(text):
            found.setdefault(ast.literal_eval(match.group(1)), set()).add(path.name)
    return found


def label_keys() -> set[str]:
    """UI labels built in Python: statuses, roles, events, fields, board names, descriptions
    and categories, the built-in departments, badges, actors, the actions named in
    conflicts."""
    tables = [
        labels.STATUS_LABELS,
        labels.REPLY_LABELS,
        labels.RATING_LABELS,
        labels.EVENT_LABELS,
        labels.AUDIT_LABELS,
        labels.QUEUE_LABELS,
        labels.CASEWORK_QUEUE_LABELS,
        labels.DESK_ROLE_LABELS,
        labels.ROLE_LABELS,
        labels.FIELD_LABELS,
        labels.WRITE_LABELS,
        presenting.BADGES,
        workflow.ACTION_NAMES,
    ]
    keys = {value for table in tables for value in table.values()}
    keys |= set(labels.OFFICE_ACTORS) | {"追加说明"}
    keys |= set(notify.KIND_TEXT.values())
    for policy in boards.POLICIES.values():
        keys.add(policy.name)
        keys |= set(policy.categories)
        if policy.description:
            keys.add(policy.description)
    # The built-in departments; those an administrator adds keep the name given.
    keys |= {department.name for department in boards.DEPARTMENTS}
    return keys


class _Messages(ast.NodeVisitor):
    def __init__(self, constants: dict[str, str]):
        self.constants = constants
        self.keys: set[str] = set()
        self.interpolated: list[str] = []

    def text(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.text(node.left), self.text(node.right)
            return left + right if left is not None and right is not None else None
        return None

    def take(self, node: ast.AST) -> None:
        """Every Chinese message among a call's arguments (dict values included)."""
        if isinstance(node, ast.JoinedStr):
            if any(CJK.search(v.value) for v in node.values if isinstance(v, ast.Constant)):
                self.interpolated.append(ast.unparse(node))
            return
        if isinstance(node, ast.Dict):
            for value in node.values:
                self.take(value)
            return
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self.take(value)
            return
        if isinstance(node, ast.IfExp):
            self.take(node.body)
            self.take(node.orelse)
            return
        text = self.text(node)
        if text and CJK.search(text):
            self.keys.add(text)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in MESSAGE_CALLS:
            target = node.args[1:] if name in ("fail", "_require") else node.args
            if name in ("msg", "term"):
                target = node.args[:1]
            for arg in target:
                self.take(arg)
            for keyword in node.keywords:
                if keyword.arg in ("message", "pattern_hint"):
                    self.take(keyword.value)
        for keyword in node.keywords:
            if keyword.arg == "pattern_hint":
                self.take(keyword.value)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        # errors[name] = "..."; and the errors' class attributes (default_message)
        for target in node.targets:
            if isinstance(target, ast.Subscript) and getattr(target.value, "id", "") == "errors":
                self.take(node.value)
            if isinstance(target, ast.Tuple) and any(
                getattr(e, "id", "") == "default_message" for e in target.elts
            ):
                for value in getattr(node.value, "elts", []):
                    self.take(value)
            if getattr(target, "id", "") == "default_message":
                self.take(node.value)
        self.generic_visit(node)


def message_keys() -> tuple[set[str], list[str]]:
    """(Chinese messages services and handlers raise, f-strings among them that cannot be
    translated)."""
    keys: set[str] = set()
    interpolated: list[str] = []
    for pattern in MESSAGE_SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            constants = {
                t.id: n.value.value
                for n in tree.body
                if isinstance(n, ast.Assign)
                for t in n.targets
                if isinstance(t, ast.Name)
                and isinstance(n.value, ast.Constant)
                and isinstance(n.value.value, str)
            }
            visitor = _Messages(constants)
            visitor.visit(tree)
            keys |= visitor.keys
            interpolated += [f"{path.relative_to(ROOT)}: {s}" for s in visitor.interpolated]
    return keys, interpolated


def english() -> dict[str, dict[str, str]]:
    """translations/en_US.csv as plural kind ("unknown", "singular", "plural") -> key -> text."""
    table: dict[str, dict[str, str]] = {}
    path = Path(i18n.TRANSLATIONS_PATH) / "en_US.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if not row:
                continue
            kind = row[2].strip() if len(row) > 2 and row[2].strip() else "unknown"
            table.setdefault(kind, {})[row[0].strip()] = row[1] if len(row) > 1 else ""
    return table


def missing() -> list[str]:
    """Keys with no English translation, or an empty one."""
    table = english()
    gaps = []
    for key in sorted(template_keys()):
        if "\x00" in key:
            singular, plural = key.split("\x00")
            if not table.get("singular", {}).get(singular, "").strip():
                gaps.append(f"{singular} (singular)")
            if not table.get("plural", {}).get(plural, "").strip():
                gaps.append(f"{plural} (plural)")
        elif not table.get("unknown", {}).get(key, "").strip():
            gaps.append(key)
    for key in sorted(label_keys() | message_keys()[0]):
        if not table.get("unknown", {}).get(key, "").strip():
            gaps.append(key)
    return sorted(set(gaps))


# English pages ------------------------------------------------------------------------------
class _Chrome(HTMLParser):
    """The text and shown attributes of a page, without what is not UI chrome: elements marked
    as another language (the 中文 button) and those listed as user content."""

    SHOWN = ("aria-label", "placeholder", "title", "alt", "data-label", "value")
    VOID = ("input", "meta", "link", "br", "img", "rect", "circle", "line", "polyline")

    def __init__(self, content_classes: set[str]):
        super().__init__()
        self.content_classes = content_classes
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def skipping(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        skip = (
            attrs.get("lang", "").startswith("zh")
            or bool(classes & self.content_classes)
            or tag in ("textarea", "code", "time")
        )
        if not self.skipping() and not skip:
            for name in self.SHOWN:
                if name in attrs and attrs[name] and CJK.search(attrs[name]):
                    if name == "value" and attrs.get("type") not in ("submit", "button"):
                        continue
                    self.found.append(f"<{tag} {name}={attrs[name]!r}>")
        if tag not in self.VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        # `<input ... />`: a void element closes nothing (the default would end every open
        # element up the stack, and with them the content being skipped).
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not self.skipping() and CJK.search(data):
            self.found.append(data.strip())


def chinese_chrome(html: str, content: set[str] = frozenset()) -> list[str]:
    parser = _Chrome(set(content))
    parser.feed(html)
    return parser.found
