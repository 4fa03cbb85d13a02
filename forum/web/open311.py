"""Open311 GeoReport v2 under /open311/v2/: the handlers parse, call forum/services/open311.py
and write its answer as JSON, or as XML when the path ends in .xml. Errors take the
specification's shape, `[{"code": 400, "description": "..."}]` (`<errors><error>` in XML), with
its HTTP statuses: 404 for what does not exist (or is not public), 403 for a missing or refused
api_key, 400 for any other request that cannot be done (and 429 and 503 as HTTP has them).

No cookie is read here and none is set: the GET methods are public, and a POST carries its
authority in its api_key. So there is no ambient authority for a forged cross-site request to
borrow, and no XSRF token is asked for.
"""

from __future__ import annotations

import http
import json
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import tornado.web

from forum.errors import DomainError, Forbidden, Invalid, NotFound, RateLimited, StoreUnavailable
from forum.services import idempotency, open311
from forum.web.base import BaseHandler
from forum.web.idempotent import idempotent
from forum.web.json_input import json_object

FORMAT = r"\.(json|xml)"
# Inside the items of a list, what each XML element of a nested list is called.
XML_ITEMS = {"attributes": "attribute", "values": "value"}
# Characters XML 1.0 cannot hold at all; stored text has none, but an answer must never be
# malformed because of one.
XML_UNSAFE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
HTTP_MESSAGES = {
    400: "请求格式有误",
    404: "资源不存在",
    405: "不支持此方法",
    413: "提交的内容太大",
    500: "服务器出错了，请稍后再试",
}


def to_xml(root: str, item: str | None, payload: Any) -> bytes:
    """The specification's XML for an answer: a list becomes `root` holding one `item` element
    per entry; a single object becomes `root` itself. None is an empty element."""
    top = Element(root)
    if isinstance(payload, list):
        for entry in payload:
            _fill(SubElement(top, item or "item"), entry)
    else:
        _fill(top, payload)
    body: bytes = tostring(top, encoding="utf-8", xml_declaration=False)  # bytes: an encoding
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _fill(element: Element, data: dict[str, Any]) -> None:
    for name, value in data.items():
        child = SubElement(element, name)
        if isinstance(value, list):
            for entry in value:
                _fill(SubElement(child, XML_ITEMS.get(name, "item")), entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = XML_UNSAFE.sub("\ufffd", str(value))


class Open311Handler(BaseHandler):
    # No session cookie and no bearer token is ever read here, so BaseHandler.prepare logs no
    # one in (current_user stays None) and clears no cookie.
    def bearer_token(self) -> None:
        return None

    def session_token(self) -> None:
        return None

    def check_xsrf_cookie(self) -> None:
        # Nothing here acts on a cookie's authority: see the module's docstring.
        return

    def get_current_user(self) -> None:
        return None

    @property
    def wants_xml(self) -> bool:
        return self.request.path.endswith(".xml")

    def answer(self, status: int, payload: Any, root: str, item: str | None = None) -> None:
        if self.wants_xml:
            self.send_answer(status, "text/xml; charset=utf-8", to_xml(root, item, payload))
        else:
            self.send_answer(
                status,
                "application/json; charset=utf-8",
                json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            )

    def query_arguments(self) -> dict[str, str]:
        """Each argument of the query string; one declared several times is comma-joined, as
        the specification's lists are."""
        return {
            name: ",".join(self.get_query_arguments(name, strip=False))
            for name in self.request.query_arguments
        }

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        status, errors = self.open311_errors(status_code, kwargs.get("exc_info"))
        error = kwargs.get("exc_info", (None, None))[1]
        if isinstance(error, RateLimited):
            self.set_header("Retry-After", str(error.retry_after_seconds))
        self.answer(status, errors, "errors", "error")

    @staticmethod
    def open311_errors(status_code: int, exc_info: Any) -> tuple[int, list[dict[str, Any]]]:
        """(HTTP status, the list of errors) in the specification's terms."""
        error = exc_info[1] if exc_info else None
        # Idempotency-Key's contract is the same as on the JSON API, statuses included.
        if isinstance(error, idempotency.BadKey):
            return 422, [
                {"code": 422, "description": f"{name}: {why}"} for name, why in error.fields.items()
            ]
        if isinstance(error, idempotency.StillRunning):
            return 409, [{"code": 409, "description": error.message}]
        if isinstance(error, Invalid):
            return 400, [
                {"code": 400, "description": f"{name}: {why}"} for name, why in error.fields.items()
            ]
        if isinstance(error, DomainError):
            if isinstance(error, NotFound):
                status = 404
            elif isinstance(error, Forbidden) and error.code == open311.KEY_REFUSED:
                status = 403
            elif isinstance(error, (RateLimited, StoreUnavailable)):
                status = error.status
            else:
                # The specification's "request cannot be fulfilled": a closed board, say.
                status = 400
            return status, [{"code": status, "description": error.message}]
        if isinstance(error, tornado.web.HTTPError):
            status_code = error.status_code
        message = HTTP_MESSAGES.get(status_code) or (
            HTTP_MESSAGES[500] if status_code >= 500 else http.HTTPStatus(status_code).phrase
        )
        return status_code, [{"code": status_code, "description": message}]


class ServicesHandler(Open311Handler):
    async def get(self, _format: str) -> None:
        self.answer(200, await open311.list_services(self.store), "services", "service")


class ServiceDefinitionHandler(Open311Handler):
    async def get(self, code: str, _format: str) -> None:
        self.answer(200, await open311.service_definition(self.store, code), "service_definition")


class RequestsHandler(Open311Handler):
    async def get(self, _format: str) -> None:
        found = await open311.list_requests(self.store, self.query_arguments())
        self.answer(200, found, "service_requests", "request")

    @idempotent
    async def post(self, _format: str) -> None:
        created = await open311.create_request(self.store, self.post_arguments())
        self.answer(201, created, "service_requests", "request")

    def post_arguments(self) -> dict[str, Any]:
        """The specification's form-encoded body; a JSON object is taken too. api_key may also
        come in the query string."""
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "application/json":
            data = json_object(self.request.body or b"{}")
        else:
            data = {
                name: self.get_body_argument(name, strip=False)
                for name in self.request.body_arguments
            }
        if data.get("api_key") in (None, ""):
            data["api_key"] = self.get_query_argument("api_key", None, strip=False)
        return data


class RequestHandler(Open311Handler):
    async def get(self, request_id: str, _format: str) -> None:
        found = await open311.get_request(self.store, request_id)
        self.answer(200, found, "service_requests", "request")


class TokenHandler(Open311Handler):
    async def get(self, token: str, _format: str) -> None:
        found = await open311.request_for_token(self.store, token)
        self.answer(200, found, "service_requests", "request")


class NotFoundHandler(Open311Handler):
    """Every other path under /open311/: 404 in the specification's shape."""

    async def prepare(self) -> None:
        await super().prepare()
        raise tornado.web.HTTPError(404)


def routes() -> list[tuple[str, type]]:
    base = r"/open311/v2"
    return [
        (rf"{base}/services{FORMAT}", ServicesHandler),
        (rf"{base}/services/([A-Za-z0-9_-]{{1,64}}){FORMAT}", ServiceDefinitionHandler),
        (rf"{base}/requests{FORMAT}", RequestsHandler),
        (rf"{base}/requests/([^/]{{1,64}}?){FORMAT}", RequestHandler),
        (rf"{base}/tokens/([^/]{{1,64}}?){FORMAT}", TokenHandler),
        (r"/open311/.*", NotFoundHandler),
    ]
