"""Talking to a test app over HTTP: JSON API calls, and a browser-like client with cookies that
fills in forms (XSRF included)."""

from __future__ import annotations

import json
import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPResponse

PASSWORD = "correct-horse-9"


class Response:
    def __init__(self, raw: HTTPResponse):
        self.raw = raw
        self.status = raw.code
        self.headers = raw.headers
        self.text = (raw.body or b"").decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def error(self) -> dict:
        return self.json()["error"]


class Api:
    """JSON calls against one app; `token` makes them bearer-authenticated."""

    def __init__(self, http_client: AsyncHTTPClient, base_url: str, token: str | None = None):
        self.http = http_client
        self.base = base_url
        self.token = token

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        all_headers = {"Content-Type": "application/json"}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        all_headers.update(headers or {})
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if method in ("POST", "PUT", "PATCH") and data is None:
            data = b""
        result = await self.http.fetch(
            self.base + "/api/v1" + path,
            method=method,
            body=data,
            headers=all_headers,
            raise_error=False,
            follow_redirects=False,
        )
        return Response(result)

    async def get(self, path: str, **kw) -> Response:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw) -> Response:
        return await self.call("POST", path, body, **kw)

    async def patch(self, path: str, body: Any = None, **kw) -> Response:
        return await self.call("PATCH", path, body, **kw)

    def as_user(self, token: str | None) -> "Api":
        return Api(self.http, self.base, token)

    async def register(self, username: str, password: str = PASSWORD, **extra) -> Response:
        return await self.post(
            "/auth/register", {"username": username, "password": password, **extra}
        )

    async def login(self, username: str, password: str = PASSWORD) -> "Api":
        response = await self.post("/auth/login", {"username": username, "password": password})
        assert response.status == 200, response.text
        return self.as_user(response.json()["token"])

    async def new_user(self, username: str) -> "Api":
        response = await self.register(username)
        assert response.status == 201, response.text
        return await self.login(username)


class Browser:
    """Keeps cookies like a browser and submits forms with their XSRF token."""

    def __init__(self, http_client: AsyncHTTPClient, base_url: str):
        self.http = http_client
        self.base = base_url
        self.cookies: dict[str, str] = {}

    def _remember(self, raw: HTTPResponse) -> None:
        for header in raw.headers.get_list("Set-Cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["expires"] and "1970" in morsel["expires"] or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        raw = await self.http.fetch(
            self.base + path,
            method=method,
            body=body,
            headers=all_headers,
            raise_error=False,
            follow_redirects=False,
        )
        self._remember(raw)
        return Response(raw)

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def xsrf(self) -> str:
        names = ("_xsrf", "__Host-_xsrf")  # the second over HTTPS
        if not any(name in self.cookies for name in names):
            await self.get("/login")
        return next(self.cookies[name] for name in names if name in self.cookies)

    async def submit(self, path: str, fields: dict[str, str], *, xsrf: bool = True) -> Response:
        data = dict(fields)
        if xsrf:
            data["_xsrf"] = await self.xsrf()
        return await self.request(
            "POST",
            path,
            urlencode(data).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    async def follow(self, response: Response) -> Response:
        """The page a form's 303 See Other leads to, fetched as the browser would."""
        assert response.status == 303, (response.status, response.text[:500])
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith("//"), location
        return await self.get(location)

    async def submit_and_follow(self, path: str, fields: dict[str, str]) -> Response:
        return await self.follow(await self.submit(path, fields))

    async def log_in(self, username: str, password: str = PASSWORD) -> Response:
        response = await self.submit("/login", {"username": username, "password": password})
        assert response.status == 303, response.text
        return response


def form_errors(html: str) -> list[str]:
    return re.findall(r'class="field-error"[^>]*>([^<]*)<', html)


def multipart(
    files: list[tuple[str, str, bytes]], fields: dict[str, str] | None = None
) -> tuple[bytes, str]:
    """A multipart/form-data body: (field name, file name, bytes) per file. Returns the body
    and its Content-Type."""
    boundary = "----forumtestboundary7MA4YWxkTrZu0gW"
    parts = []
    for name, value in (fields or {}).items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, filename, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
