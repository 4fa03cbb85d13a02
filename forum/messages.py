"""Messages with parameters, for domain errors that name a number or a thing.

Services write their messages in Chinese, the portal's language. A plain message is its own
translation key. A message with parameters is made with `msg(template, **args)`: it reads as the
filled-in Chinese text (so it prints, compares and serialises like any string), and keeps its
template and arguments so that the web layer can translate the template and fill it in again.
Nothing here knows about Tornado or locales."""

from __future__ import annotations

from typing import Any


class Message(str):
    """A str made from `template.format(**args)`; `template` and `args` are kept. A list
    argument is written as its items joined by 、 (", " in English)."""

    template: str
    args: dict[str, Any]

    context: str | None = None

    def __new__(cls, template: str, args: dict[str, Any], *, literal: bool = False) -> "Message":
        shown = {
            name: "、".join(map(str, value)) if isinstance(value, (list, tuple)) else value
            for name, value in args.items()
        }
        self = super().__new__(cls, template if literal else template.format(**shown))
        self.template = template
        self.args = dict(args)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.template, self.args, str(self)))


def msg(template: str, **args: Any) -> Message:
    """A translatable message with parameters: `msg("最多 {n} 个字符", n=40)`. An argument that is
    itself a Message, or a str marked with `term()`, is translated too (board names, verbs)."""
    return Message(template, args)


def term(text: str, context: str | None = None) -> Message:
    """A fixed word or name used as a parameter of another message, to be translated on its own
    (a board's name, a verb): `msg("当前状态下不能{verb}", verb=term("受理", "动作"))`. The
    `context` tells apart words Chinese writes alike (受理: accept, accepted)."""
    word = Message(text, {}, literal=True)
    word.context = context
    return word


def _rebuild(template: str, args: dict[str, Any], text: str) -> Message:
    return (
        Message(template, args, literal=True)
        if template == text and not args
        else Message(template, args)
    )
