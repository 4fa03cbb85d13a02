"""Uploads read as they arrive (forum/web/uploads.py): who may upload is asked before the body,
the XSRF token before a file, and a body or a file over its limit is answered 413 while it
arrives, chunked or not, on the API and on each page that takes files; bad forms are refused
on every path."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from tornado.iostream import StreamClosedError
from tornado.tcpclient import TCPClient

from forum.model import Role
from forum.services import attachments
from tests.support import files
from tests.support.people import login_as, person
from tests.support.web import Browser, multipart

LETTER = {
    "title": "小区门口路灯不亮",
    "body": "一个月了",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13812345678",
    "public": True,
}
BOUNDARY = "----uploadtestboundary"
OVER = attachments.MAX_FILE_BYTES + 1
PIECE = 256 << 10


class Raw:
    """A request written piece by piece on a socket of its own, stopping when the server
    answers or closes; the answer as (status, headers, body)."""

    def __init__(self, base_url: str):
        self.port = urlsplit(base_url).port

    async def send(
        self, head: str, pieces, *, chunked: bool = False
    ) -> tuple[int, dict[str, str], bytes, int]:
        stream = await TCPClient().connect("127.0.0.1", self.port)
        answer = stream.read_until_close()
        sent = 0
        try:
            await stream.write(head.encode() + b"\r\n")
            for piece in pieces:
                if answer.done():
                    break
                await stream.write(
                    f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
                )
                sent += len(piece)
            if chunked and not answer.done():
                await stream.write(b"0\r\n\r\n")
        except StreamClosedError:
            pass
        raw = await answer
        head_part, _, body = raw.partition(b"\r\n\r\n")
        lines = head_part.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        return int(lines[0].split()[1]), headers, body, sent


def request_head(path: str, *, length: int | None, headers: dict[str, str]) -> str:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: x",
        "Connection: close",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
    ]
    lines.append(
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    )
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return "\r\n".join(lines) + "\r\n"


def form_start(fields: dict[str, str], filename: str = "big.pdf") -> bytes:
    parts = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    return (
        parts
        + (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n%PDF-'
        ).encode()
    )


def file_pieces(size: int):
    """A file's bytes after its first five, in pieces; never the body's end."""
    left = size - 5
    while left > 0:
        yield b"0" * min(PIECE, left)
        left -= PIECE


async def letter(api, store):
    writer = await login_as(api, store, "writer")
    post_id = (await writer.post("/boards/mayor/posts", LETTER)).json()["post"]["id"]
    return writer, post_id


async def page_writer(http_client, base_url, store):
    browser = Browser(http_client, base_url)
    await browser.log_in("writer")
    return browser


def cookie_headers(browser: Browser, token: str | None) -> dict[str, str]:
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}
    if token:
        headers["X-XSRFToken"] = token
    return headers


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize("route", ["api", "attach page", "new letter page", "supplement page"])
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
async def test_a_file_over_10_mb_is_refused_as_it_arrives(
    http_client, base_url, api, store, route, chunked
):
    writer, post_id = await letter(api, store)
    fields: dict[str, str] = {}
    if route == "api":
        path, headers = (
            f"/api/v1/posts/{post_id}/attachments",
            {"Authorization": f"Bearer {writer.token}"},
        )
    else:
        browser = await page_writer(http_client, base_url, store)
        token = await browser.xsrf()
        headers = cookie_headers(browser, None)
        fields = {"_xsrf": token}
        path = {
            "attach page": f"/posts/{post_id}/attachments",
            "new letter page": "/boards/mayor/new",
            "supplement page": "/track/supplement",
        }[route]
        if route == "supplement page":
            created = await writer.post("/boards/mayor/posts", LETTER)
            fields["code"] = created.json()["tracking_code"]
            post_id = created.json()["post"]["id"]
        if route == "new letter page":
            fields.update(
                title="路灯",
                body="坏了",
                letter_type="complaint",
                area="city",
                contact="13812345678",
            )
    pieces = [form_start(fields), *file_pieces(OVER + PIECE), f"\r\n--{BOUNDARY}--\r\n".encode()]
    # Under the route's limit: only the file's own size refuses it. From there on nothing is
    # kept; the rest is read and dropped, and the answer comes at the body's end.
    length = None if chunked else sum(map(len, pieces))
    status, answer_headers, body, _ = await Raw(base_url).send(
        request_head(path, length=length, headers=headers), pieces, chunked=chunked
    )
    assert status == 413
    if route == "api":
        error = json.loads(body)["error"]
        assert error["code"] == "too_large" and "10 MB" in error["fields"]["files"]
    else:
        assert "text/html" in answer_headers["content-type"]
        assert "10 MB" in body.decode()
    assert await store.list_attachments(post_id) == []


@pytest.mark.gen_test(timeout=60)
async def test_a_chunked_body_over_its_routes_limit_is_413_not_400(
    http_client, base_url, api, store
):
    writer, post_id = await letter(api, store)
    raw = Raw(base_url)
    # A JSON route reads its body whole: 1 MiB, counted as it comes.
    status, headers, body, _ = await raw.send(
        "POST /api/v1/boards/forum/posts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
        [b"x" * PIECE] * 6,
        chunked=True,
    )
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large"
    # A page answers with its error page.
    status, headers, body, _ = await raw.send(
        "POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n",
        [b"x" * PIECE] * 6,
        chunked=True,
    )
    assert status == 413 and "text/html" in headers["content-type"]
    # An upload's text fields: 1 MiB in all.
    status, headers, body, _ = await raw.send(
        request_head(
            f"/api/v1/posts/{post_id}/attachments",
            length=None,
            headers={"Authorization": f"Bearer {writer.token}"},
        ),
        [
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\n'.encode(),
            *[b"x" * PIECE] * 8,
        ],
        chunked=True,
    )
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large"
    # Under the limit, a chunked upload is taken as any other.
    data, content_type = multipart([("files", "a.png", files.png())])
    status, headers, body, _ = await raw.send(
        f"POST /api/v1/posts/{post_id}/attachments HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"
        f"Authorization: Bearer {writer.token}\r\nConnection: close\r\n",
        [data[:100], data[100:]],
        chunked=True,
    )
    assert status == 201, body


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize(
    "who, path, expected",
    [
        (None, "api", 401),
        ("other", "api", 403),
        ("mod", "api", 403),
        (None, "attach page", 401),
        ("other", "attach page", 403),
        ("mod", "attach page", 403),
        (None, "new letter page", 401),
    ],
)
async def test_who_may_not_upload_is_refused_before_the_body(
    http_client, base_url, api, store, who, path, expected
):
    """The headers promise 40 MB and not a byte follows: the answer comes all the same."""
    _, post_id = await letter(api, store)
    await person(store, "other")
    await person(store, "mod", Role.MODERATOR)
    if path != "new letter page":  # the letter public, so a moderator may read it
        mod = await login_as(api, store, "mod2", Role.MODERATOR)
        assert (await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})).status == 200
    headers: dict[str, str] = {}
    if who and path == "api":
        headers["Authorization"] = f"Bearer {(await api.login(who)).token}"
    elif who:
        browser = Browser(http_client, base_url)
        await browser.log_in(who)
        headers = cookie_headers(browser, await browser.xsrf())
    target = {
        "api": f"/api/v1/posts/{post_id}/attachments",
        "attach page": f"/posts/{post_id}/attachments",
        "new letter page": "/boards/mayor/new",
    }[path]
    status, answer_headers, _, _ = await Raw(base_url).send(
        request_head(target, length=40 << 20, headers=headers), []
    )
    assert status == expected
    assert ("json" in answer_headers["content-type"]) == (path == "api")
    assert await store.list_attachments(post_id) == []


@pytest.mark.gen_test(timeout=60)
async def test_a_page_file_before_its_xsrf_token_is_refused(http_client, base_url, api, store):
    _, post_id = await letter(api, store)
    browser = await page_writer(http_client, base_url, store)
    token = await browser.xsrf()
    headers = cookie_headers(browser, None)
    png = files.png()
    file_part = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + png
        + b"\r\n"
    )
    token_part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="_xsrf"\r\n\r\n{token}\r\n'
    ).encode()
    end = f"--{BOUNDARY}--\r\n".encode()
    path = f"/posts/{post_id}/attachments"
    raw = Raw(base_url)
    for body, expected in (
        (file_part + token_part + end, 403),  # the file came first
        (file_part + end, 403),  # no token at all
        (token_part.replace(token.encode(), b"2|00|00|00") + file_part + end, 403),
        (token_part + file_part + end, 303),
    ):  # as browsers send it
        status, _, _, _ = await raw.send(
            request_head(path, length=len(body), headers=headers), [body]
        )
        assert status == expected
    assert len(await store.list_attachments(post_id)) == 1
    # A token in the header serves as well, whatever the order of the parts.
    body = file_part + end
    status, _, _, _ = await raw.send(
        request_head(path, length=len(body), headers=cookie_headers(browser, token)), [body]
    )
    assert status == 303 and len(await store.list_attachments(post_id)) == 2


@pytest.mark.gen_test(timeout=60)
async def test_bad_upload_bodies_are_refused_on_every_path(http_client, base_url, api, store):
    writer, post_id = await letter(api, store)

    async def send(body: bytes, content_type: str, **extra: str):
        return await writer.call(
            "POST",
            f"/posts/{post_id}/attachments",
            raw=body,
            headers={"Content-Type": content_type, **extra},
        )

    text_only, content_type = multipart([], {"note": "no file"})
    missing = await send(text_only, content_type)
    assert missing.status == 422 and "files" in missing.error["fields"]
    as_json = await send(b'{"files": "a.png"}', "application/json")
    assert as_json.status == 422 and "files" in as_json.error["fields"]
    a_field_named_files = await send(*multipart([], {"files": "a.png"}))
    assert a_field_named_files.status == 422
    no_boundary = await send(text_only, "multipart/form-data")
    assert no_boundary.status == 400 and no_boundary.error["code"] == "malformed"
    body, content_type = multipart([("files", "a.png", files.png())])
    cut = await send(body[: -len(f"--{BOUNDARY}--\r\n") - 30], content_type)
    assert cut.status == 400
    six, content_type = multipart([("files", f"{n}.png", files.png()) for n in range(6)])
    too_many = await send(six, content_type)
    assert too_many.status == 422 and "5" in too_many.error["fields"]["files"]
    assert await store.list_attachments(post_id) == []
    # Hostile names: paths, markup, control characters, a name far too long, no extension.
    names = [
        "../../etc/passwd.png",
        "C:\\\\Windows\\\\evil.png",
        "<script>x</script>.png",
        "a\tb\u202e.png",
        "长" * 300 + ".png",
    ]
    body, content_type = multipart([("files", name, files.png()) for name in names])
    saved = await send(body, content_type)
    assert saved.status == 201, saved.text
    kept = [item["filename"] for item in saved.json()["items"]]
    for name in kept:
        assert re.fullmatch(r"[^/\\<>:\"|?*\t\u202e]{1,101}\.png", name), name
    assert kept[0] == "passwd.png" and kept[1] == "evil.png"


@pytest.mark.gen_test(timeout=60)
async def test_a_retried_upload_with_other_files_is_not_the_same_request(api, store):
    writer, post_id = await letter(api, store)
    first, content_type = multipart([("files", "a.png", files.png())])
    key = {"Idempotency-Key": "upload-1"}
    made = await writer.call(
        "POST",
        f"/posts/{post_id}/attachments",
        raw=first,
        headers={"Content-Type": content_type, **key},
    )
    again = await writer.call(
        "POST",
        f"/posts/{post_id}/attachments",
        raw=first,
        headers={"Content-Type": content_type, **key},
    )
    assert made.status == again.status == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    other, content_type = multipart([("files", "b.pdf", files.PDF)])
    changed = await writer.call(
        "POST",
        f"/posts/{post_id}/attachments",
        raw=other,
        headers={"Content-Type": content_type, **key},
    )
    assert changed.status == 422
    assert len(await store.list_attachments(post_id)) == 1
