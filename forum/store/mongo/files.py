"""Attachments: files in GridFS, counted against each post's places."""

from __future__ import annotations

from bson import ObjectId
from gridfs.errors import FileExists, NoFile

from forum.model import Attachment
from forum.store.base import TOO_MANY_FILES, Conflict
from forum.store.codec import to_plain
from forum.store.mongo.core import _Core
from forum.store.mongo.documents import ATTACHMENTS, _attachment, _oid

# A post document's count of attachment places taken (see _take_attachment_places); no field of
# the Post record, so reads of posts leave it out.
ATTACHMENT_PLACES = "attachment_places"


class _Files(_Core):
    """Attachments."""

    # attachments -----------------------------------------------------------------------------
    async def add_attachment(self, attachment: Attachment, data: bytes) -> None:
        await self._add_files(attachment.post_id, [(attachment, data)], None)

    async def add_attachments(
        self, post_id: str, items: list[tuple[Attachment, bytes]], max_per_post: int | None
    ) -> None:
        await self._add_files(post_id, items, max_per_post)

    async def _add_files(
        self, post_id: str, items: list[tuple[Attachment, bytes]], max_per_post: int | None
    ) -> None:
        await self._require_post(post_id, None)
        uploads = []
        for attachment, data in items:
            description = to_plain(attachment)
            uploads.append(
                (ObjectId(description.pop("id")), attachment.filename, data, description)
            )
        file_ids = [file_id for file_id, *_ in uploads]
        # Asked before any chunk is written, as SQLite does: chunks uploaded under a taken id
        # would be read as part of the file that has it. FileExists still covers a race.
        if len(set(file_ids)) < len(file_ids) or await self._db[f"{ATTACHMENTS}.files"].find_one(
            {"_id": {"$in": file_ids}}, {"_id": 1}
        ):
            raise Conflict(code="attachment_taken")
        if max_per_post is not None:
            await self._take_attachment_places(post_id, len(items), max_per_post)
        # GridFS writes each file's chunks first and its files document (which holds the
        # description) last: a crash in between leaves chunks nothing names, never a description
        # without its bytes. GridFS runs in no transaction, so neither would one help; a failure
        # part way deletes the files already written, for all or none.
        done: list[ObjectId] = []
        try:
            for file_id, filename, data, description in uploads:
                try:
                    await self._attachments.upload_from_stream_with_id(
                        file_id, filename, data, metadata=description
                    )
                except FileExists as exc:
                    raise Conflict(code="attachment_taken") from exc
                done.append(file_id)
        except BaseException:
            for file_id in done:
                await self._attachments.delete(file_id)
            if max_per_post is not None:
                await self._db["posts"].update_one(
                    {"_id": _oid(post_id)}, {"$inc": {ATTACHMENT_PLACES: -len(items)}}
                )
            raise
        if max_per_post is None:
            # Uncapped (a restore): the places, where counted already, still match the files.
            await self._db["posts"].update_one(
                {"_id": _oid(post_id), ATTACHMENT_PLACES: {"$exists": True}},
                {"$inc": {ATTACHMENT_PLACES: len(items)}},
            )

    async def _take_attachment_places(self, post_id: str, count: int, most: int) -> None:
        """Count `count` more files against the post's places, or raise Conflict when they
        would pass `most`. One conditional update of the post's document, which MongoDB applies
        atomically on any deployment: uploads racing for the last places cannot both get them,
        where counting the files and then writing would let them. A crash between taking the
        places and storing the files leaves places no file fills: the post then takes fewer
        files than `most`, never more."""
        posts = self._db["posts"]
        # A post's first upload since the count was kept starts it from the files it has; of two
        # racing to start it, the $exists condition lets the first one alone set it.
        if (await posts.find_one({"_id": _oid(post_id)}, {ATTACHMENT_PLACES: 1}) or {}).get(
            ATTACHMENT_PLACES
        ) is None:
            kept = await self._db[f"{ATTACHMENTS}.files"].count_documents(
                {"metadata.post_id": post_id}
            )
            await posts.update_one(
                {"_id": _oid(post_id), ATTACHMENT_PLACES: {"$exists": False}},
                {"$set": {ATTACHMENT_PLACES: kept}},
            )
        taken = await posts.update_one(
            {"_id": _oid(post_id), ATTACHMENT_PLACES: {"$lte": most - count}},
            {"$inc": {ATTACHMENT_PLACES: count}},
        )
        if not taken.matched_count:
            raise Conflict(code=TOO_MANY_FILES)

    async def get_attachment(self, attachment_id: str) -> tuple[Attachment, bytes] | None:
        try:
            download = await self._attachments.open_download_stream(_oid(attachment_id))
        except NoFile:
            return None
        # _id is GridOut's public property for the file's id, whatever case the caller's had.
        return _attachment(download._id, download.metadata), await download.read()

    async def list_attachments(self, post_id: str) -> list[Attachment]:
        cursor = (
            self._db[f"{ATTACHMENTS}.files"]
            .find({"metadata.post_id": post_id})
            .sort([("metadata.created_at", 1), ("_id", 1)])
        )
        return [_attachment(doc["_id"], doc["metadata"]) for doc in await cursor.to_list()]
