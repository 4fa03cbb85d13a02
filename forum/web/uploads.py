"""Routes that take files read their bodies as they arrive (Tornado's stream_request_body),
and refuse one they will not take as soon as they can tell, never holding more than a limit.

In order: the headers (BodyLimits: a Content-Length over the route's limit is a 413 before a
byte is read); prepare(), which asks the service whether the caller may upload here at all
(401, 403, 404, 409 before the body); the XSRF token, from its header at once, or from the
form's `_xsrf` field before the first byte of a file is kept; then the body, counted: text
fields up to FIELDS_MAX_BYTES in all, each file up to attachments.MAX_FILE_BYTES (413 naming
`files`), at most MAX_FILES_PER_CASE files (422), the whole up to the route's limit (413),
chunked or not. A file's bytes past SPOOL_BYTES wait in a temporary file, not in memory, while
the rest arrives. From a refusal on nothing more is kept: the rest of the body is read and
dropped, and the refusal answered as the route answers errors (the API's JSON, a page's error
page) when the body ends, or at once, closing the connection, once another limit's worth has
been dropped. (Answering and closing while a client still sends would reset the connection,
and the client, a browser above all, would lose the answer.)
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from typing import IO, Any, Awaitable, Callable

import tornado.httputil
import tornado.web
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from forum.errors import TooLarge
from forum.services import attachments
from forum.web.base import MAX_BODY_BYTES, BaseHandler

FILE_FIELD = "files"
FIELDS_MAX_BYTES = MAX_BODY_BYTES  # the text fields of an upload form, all together
SPOOL_BYTES = 1 << 20  # a file past this is kept on disk until the body is in
# Five files of ten megabytes, their text fields, and the multipart framing around them.
UPLOAD_BODY_BYTES = attachments.MAX_FILES_PER_CASE * attachments.MAX_FILE_BYTES + FIELDS_MAX_BYTES


class Malformed(tornado.web.HTTPError):
    def __init__(self, why: str):
        super().__init__(400, "malformed upload: %s", why)


class FormStream:
    """A form body fed piece by piece. multipart/form-data is parsed as it comes; any other
    type is kept (up to FIELDS_MAX_BYTES) and parsed at the end as Tornado would. Text fields
    go to `arguments` (name -> [bytes], as Tornado keeps them), the parts of FILE_FIELD that
    name a file to `files`; parts of other names that carry a file are read past and dropped.
    `before_file` runs when the first file's headers are in, before its bytes are kept.
    feed() and end() raise TooLarge, Invalid (too many files), Malformed, and whatever
    before_file raises."""

    def __init__(self, content_type: str, before_file: Callable[[], None]):
        self.arguments: dict[str, list[bytes]] = {}
        self.files: list[tuple[str, IO[bytes]]] = []
        self.received = 0
        self._digest = hashlib.sha256()
        self._content_type = content_type
        self._before_file = before_file
        self._field_bytes = 0
        self._ended = False
        self._raw: bytearray | None = None
        self._parser: MultipartParser | None = None
        kind, options = parse_options_header(content_type)
        if kind != b"multipart/form-data":
            self._raw = bytearray()
            return
        boundary = options.get(b"boundary")
        if not boundary or len(boundary) > 70:  # RFC 2046's longest
            raise Malformed("no boundary")
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def feed(self, chunk: bytes, limit: int) -> None:
        self.received += len(chunk)
        if self.received > limit:
            raise TooLarge({})
        self._digest.update(chunk)
        if self._parser is None:
            assert self._raw is not None
            self._raw += chunk
            if len(self._raw) > FIELDS_MAX_BYTES:
                raise TooLarge({})
            return
        try:
            self._parser.write(chunk)
        except MultipartParseError as error:
            raise Malformed(str(error)) from None

    def end(self) -> None:
        """The body is all in: check that it was whole, and parse a body of another type."""
        if self._raw is not None:
            files: dict[str, list[Any]] = {}
            try:
                tornado.httputil.parse_body_arguments(
                    self._content_type, bytes(self._raw), self.arguments, files
                )
            except tornado.httputil.HTTPInputError as error:
                raise Malformed(str(error)) from None
            self._raw = None
        elif not self._ended:
            raise Malformed("the body ended before its closing boundary")

    def fingerprint(self) -> bytes:
        """What the body was, in a few bytes: its SHA-256."""
        return b"sha256:" + self._digest.hexdigest().encode()

    def close(self) -> None:
        for _, spool in self.files:
            spool.close()

    # multipart callbacks, in the order the parser calls them for each part -------------------
    def _part_begin(self) -> None:
        self._headers: dict[bytes, bytes] = {}
        self._header_name, self._header_value_ = b"", b""
        self._name: str | None = None
        self._value: bytearray | None = None
        self._file: IO[bytes] | None = None
        self._size = 0

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value_ += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value_
        self._header_name, self._header_value_ = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename", b"").decode("utf-8", "replace")
        if not name:
            return  # Tornado drops a part without a name too
        if not filename:  # a browser's empty file input sends filename="": a field, as in Tornado
            self._name, self._value = name, bytearray()
            return
        if name != FILE_FIELD:
            return
        if len(self.files) == attachments.MAX_FILES_PER_CASE:
            raise attachments.too_many()
        if not self.files:
            self._before_file()
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        self.files.append((filename, self._file))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self._file is not None:
            self._size += size
            if self._size > attachments.MAX_FILE_BYTES:
                raise attachments.file_too_large(len(self.files))
            self._file.write(data[start:end])
        elif self._value is not None:
            self._field_bytes += size
            if self._field_bytes > FIELDS_MAX_BYTES:
                raise TooLarge({})
            self._value += data[start:end]

    def _part_end(self) -> None:
        if self._name is not None and self._value is not None:
            self.arguments.setdefault(self._name, []).append(bytes(self._value))

    def _end(self) -> None:
        self._ended = True


def _after_body(method: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    @functools.wraps(method)
    async def run(self: "UploadHandler", *args: Any) -> None:
        self.body_received()
        await method(self, *args)

    run.after_body = True  # type: ignore[attr-defined]
    return run


@tornado.web.stream_request_body
class UploadHandler(BaseHandler):
    """A route whose body carries files; mixed in before ApiHandler or PageHandler. prepare()
    runs `admit` (the service's check of who may upload here) before any of the body is read;
    `admit_files` runs once the fields before the first file are in (for a route whose
    permission comes in the form, such as a tracking code). The route's post() runs once the
    whole body is in and checked (it is wrapped so, whichever subclass defines it); files are
    read with uploads(), fields with get_body_argument as usual."""

    max_body_bytes = UPLOAD_BODY_BYTES
    counts_own_body = True  # a chunked body too (BodyLimits leaves it to data_received)
    _form: FormStream | None = None
    _token_in_form = False  # the XSRF token is to come in the form's `_xsrf` field
    _files_admitted = False
    _refusal: Exception | None = None  # why the body is refused, found while it came
    _dropped = 0  # bytes read past a refusal, and not kept

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        post = getattr(cls, "post", None)
        if post is not None and not getattr(post, "after_body", False):
            cls.post = _after_body(post)

    async def admit(self, *path: str) -> None:
        """Raise unless the caller may send files here (`path`: the route's arguments, the
        board or the post); before the body is read."""

    async def admit_files(self) -> None:
        """Raise unless the files may be kept, now that the fields before them are in."""

    def check_xsrf_cookie(self) -> None:
        # Tornado asks before prepare(), when only the headers are in. A token in a header is
        # checked now; a form's comes in its `_xsrf` field, checked before a file is kept.
        if (
            self._form is not None
            or self.request.headers.get("X-Xsrftoken")
            or self.request.headers.get("X-Csrftoken")
        ):
            super().check_xsrf_cookie()
            return
        try:
            super().check_xsrf_cookie()
        except tornado.web.HTTPError:
            self._token_in_form = True

    async def prepare(self) -> None:
        await super().prepare()
        if self.request.method != "POST":
            return
        await self.admit(*self.path_args)
        self._form = FormStream(
            self.request.headers.get("Content-Type", ""), self._check_form_token
        )

    def _check_form_token(self) -> None:
        if self._token_in_form:
            self._token_in_form = False
            self._publish_fields()
            self.check_xsrf_cookie()

    def _publish_fields(self) -> None:
        # Where Tornado keeps a parsed body's fields, for get_argument and get_body_argument.
        assert self._form is not None
        request = self.request
        request.body_arguments = {
            name: list(values) for name, values in self._form.arguments.items()
        }
        request.arguments = {name: list(values) for name, values in request.query_arguments.items()}
        for name, values in request.body_arguments.items():
            request.arguments.setdefault(name, []).extend(values)

    async def data_received(self, chunk: bytes) -> None:
        if self._finished or self._form is None:
            return
        if self._refusal is not None:
            # Refused: nothing more is kept. The rest is read and dropped, up to a limit's worth,
            # so that the answer is read: a server that closes while a client still sends
            # resets the connection, and the client (a browser) never sees the answer.
            self._dropped += len(chunk)
            if self._dropped > self.max_body_bytes:
                # Answered now, then closed. Raised here, not passed on: Tornado's error answer
                # reads the exception from sys.exc_info(), and without one it answers 500.
                try:
                    raise self._refusal
                except Exception as refusal:  # noqa: BLE001 -- answered as a handler's errors are
                    self._handle_request_exception(refusal)
            return
        try:
            self._form.feed(chunk, self.max_body_bytes)
            if self._form.files and not self._files_admitted:
                self._publish_fields()  # the fields before the first file, for admit_files
                await self.admit_files()
                self._files_admitted = True
        except Exception as error:  # noqa: BLE001 -- answered as a handler's errors are
            self._refusal = error
            self._form.close()

    def body_received(self) -> None:
        """The whole body is in: parse what is left, and check a token that came in it.
        Raises what refused the body while it came."""
        assert self._form is not None
        if self._refusal is not None:
            raise self._refusal
        self._form.end()
        self._publish_fields()
        self._check_form_token()
        # For Idempotency-Key: a retry is compared by the body it sends, here its digest.
        self.request.body = self._form.fingerprint()

    def uploads(self) -> list[tuple[str, bytes]]:
        """The files sent in FILE_FIELD: (name as sent, bytes), each at most MAX_FILE_BYTES."""
        assert self._form is not None
        found = []
        for name, spool in self._form.files:
            spool.seek(0)
            found.append((name, spool.read()))
        return found

    def on_finish(self) -> None:
        if self._form is not None:
            self._form.close()
        super().on_finish()

    def on_connection_close(self) -> None:
        if self._form is not None:
            self._form.close()
        super().on_connection_close()
