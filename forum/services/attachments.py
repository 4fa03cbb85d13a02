"""Evidence for cases: photos and PDFs, checked from their bytes, cleaned of metadata, served
only to those who may read the case as its writer does."""

from __future__ import annotations

import asyncio
import hashlib
import io
import unicodedata
import warnings
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from forum.clock import now
from forum import workflow
from forum.errors import Conflict, Forbidden, Invalid, NotFound, NotLoggedIn, TooLarge
from forum.messages import msg
from forum.model import Attachment, Kind, Status, User, is_id, new_id
from forum.services import posting
from forum.services.presenting import is_author, sees_personal_data
from forum.store.base import TOO_MANY_FILES, Store

MAX_FILES_PER_CASE = 5
MAX_FILE_BYTES = 10 * 1000 * 1000
MAX_IMAGE_PIXELS = 40_000_000  # about 6300 x 6300: larger is no phone photo, likely a bomb
FILENAME_MAX = 100

# Signatures of the accepted types: the bytes decide, never the name or the client's header.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)
CLOSED = (*workflow.CLOSED_CASE_STATUSES, Status.REJECTED)


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes; None for anything else."""
    return next(((kind, ext) for magic, kind, ext in SIGNATURES if data.startswith(magic)), None)


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """Re-encode an image without its metadata (EXIF, GPS location, comments). PDFs are kept as
    sent. Raises ValueError for an image that does not decode."""
    if content_type == "application/pdf":
        return data
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise ValueError("image too large")
                image.load()
                out = io.BytesIO()
                if content_type == "image/jpeg":
                    # No exif= argument: Pillow then writes none. Orientation is applied first so
                    # the picture still stands the right way up without its EXIF tag.
                    ImageOps.exif_transpose(image, in_place=True)
                    image.convert("RGB").save(out, "JPEG", quality=92, optimize=True)
                else:
                    image.save(out, "PNG", optimize=True)
                return out.getvalue()
        except (
            UnidentifiedImageError,
            OSError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
            SyntaxError,
        ) as error:
            raise ValueError(str(error)) from error


def _safe_name(name: Any, extension: str) -> str:
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    base = "".join(
        ch
        for ch in text.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        if ch.isprintable() and ch not in '<>:"|?*'
    )
    stem = base.rsplit(".", 1)[0].strip(" .")[:FILENAME_MAX] or "attachment"
    return f"{stem}.{extension}"


async def writable_case(store: Store, viewer: User | None, post_id: Any) -> str:
    """The id of the case `viewer` may attach files to: its writer's, while it is open. Asked
    before an upload's body is read, and again when it has arrived. Raises NotLoggedIn,
    NotFound, Forbidden, Conflict (closed case)."""
    if viewer is None:
        raise NotLoggedIn()
    post, policy = await posting.visible_post(store, viewer, post_id)
    if policy.kind is not Kind.CASE or not is_author(post, viewer):
        raise Forbidden("只有写信人可以为信件或举报添加附件")
    if post.status in CLOSED:
        raise Conflict("已办结或不予受理的事项不能再添加附件", code="case_closed")
    return post.id


async def add_files(
    store: Store, viewer: User | None, post_id: Any, files: list[tuple[Any, bytes]]
) -> list[Attachment]:
    """Attach files to a case: its writer, while the case is open. Raises NotLoggedIn,
    NotFound, Forbidden, Invalid (files), TooLarge (a file), Conflict (closed case, or over
    the count)."""
    return await store_files(store, viewer, await writable_case(store, viewer, post_id), files)


def file_too_large(number: int) -> TooLarge:
    """The `number`th file (from 1) is over MAX_FILE_BYTES."""
    return TooLarge({"files": msg("第 {number} 个文件超过 10 MB", number=number)})


async def store_files(
    store: Store, viewer: User | None, post_id: str, files: list[tuple[Any, bytes]]
) -> list[Attachment]:
    """Check and keep files for a case."""
    if not files:
        raise Invalid({"files": "没有收到文件"})
    existing = len(await store.list_attachments(post_id))
    return await save(store, viewer, post_id, await prepare(files, already=existing))


Prepared = tuple[str, str, bytes]  # (safe file name, content type, cleaned bytes)


def too_many() -> Invalid:
    """More files than a case may hold."""
    return Invalid({"files": msg("每件最多 {count} 个附件", count=MAX_FILES_PER_CASE)})


async def prepare(files: list[tuple[Any, bytes]], *, already: int = 0) -> list[Prepared]:
    """Check files and strip their metadata, before anything is stored. Raises Invalid,
    TooLarge."""
    # Early, before the slow work; `save` is what holds the cap against uploads racing.
    if already + len(files) > MAX_FILES_PER_CASE:
        raise too_many()
    prepared = []
    for index, (name, data) in enumerate(files):
        if len(data) > MAX_FILE_BYTES:
            raise file_too_large(index + 1)
        kind = sniff(data)
        if kind is None:
            raise Invalid(
                {"files": msg("第 {number} 个文件不是 JPEG、PNG 或 PDF", number=index + 1)}
            )
        try:
            cleaned = await asyncio.to_thread(strip_metadata, data, kind[0])
        except ValueError:
            raise Invalid(
                {"files": msg("第 {number} 个文件已损坏，无法读取", number=index + 1)}
            ) from None
        prepared.append((_safe_name(name, kind[1]), kind[0], cleaned))
    return prepared


async def save(
    store: Store, viewer: User | None, post_id: str, prepared: list[Prepared]
) -> list[Attachment]:
    """Keep the files, all or none. Raises Invalid when the case would then pass its cap: the
    store counts and adds in one write, so uploads fired at once cannot all fit under a count
    made before any of them was stored."""
    items = [
        (
            Attachment(
                new_id(),
                post_id,
                filename,
                content_type,
                len(data),
                hashlib.sha256(data).hexdigest(),
                viewer.id if viewer else None,
                now(),
            ),
            data,
        )
        for filename, content_type, data in prepared
    ]
    try:
        await store.add_attachments(post_id, items, MAX_FILES_PER_CASE)
    except Conflict as error:
        if error.code != TOO_MANY_FILES:
            raise
        raise too_many() from error
    return [attachment for attachment, _ in items]


async def may_download(store: Store, viewer: User | None, post_id: str) -> bool:
    post = await store.get_post(post_id)
    return post is not None and sees_personal_data(post, viewer, set())


async def download(
    store: Store, viewer: User | None, attachment_id: Any
) -> tuple[Attachment, bytes]:
    """The file, for the writer, moderators and the routed department's staff. Anyone else gets
    NotFound, as if it did not exist."""
    found = await store.get_attachment(attachment_id) if is_id(attachment_id) else None
    if found is None or not await may_download(store, viewer, found[0].post_id):
        raise NotFound("附件不存在或无权查看", denied=found is not None)
    return found


async def list_for(store: Store, viewer: User | None, post_id: str) -> list[Attachment]:
    """The attachments the viewer may download; an empty list for everyone else."""
    if not await may_download(store, viewer, post_id):
        return []
    return await store.list_attachments(post_id)
