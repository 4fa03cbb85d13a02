"""Atom feeds of the public boards (RFC 4287)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from forum.config import site_address
from forum.model import iso
from forum.services import posting
from forum.services.presenting import PostView
from forum.web.base import BaseHandler

ATOM = "http://www.w3.org/2005/Atom"


class BoardFeedHandler(BaseHandler):
    async def prepare(self) -> None:
        pass  # public and cookie-free: no session lookup

    async def get(self, slug: str) -> None:
        board, views = await posting.public_feed(self.store, slug)
        base = site_address(self.config)
        feed = ET.Element("feed", xmlns=ATOM)
        ET.SubElement(feed, "title").text = f"{board.settings.name} · 玉溪网"
        ET.SubElement(feed, "subtitle").text = board.settings.description
        ET.SubElement(feed, "id").text = f"{base}/boards/{board.slug}"
        ET.SubElement(feed, "link", href=f"{base}/boards/{board.slug}")
        ET.SubElement(feed, "link", rel="self", href=f"{base}/boards/{board.slug}/feed.atom")
        newest = max((v.post.updated_at for v in views), default=None)
        ET.SubElement(feed, "updated").text = iso(newest) or "1970-01-01T00:00:00Z"
        for view in sorted(views, key=lambda v: v.post.created_at, reverse=True):
            _entry(feed, base, view)
        self.set_header("Content-Type", "application/atom+xml; charset=UTF-8")
        self.finish(b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, "utf-8"))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        status, _code, message, _fields = self.error_details(status_code, kwargs.get("exc_info"))
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(message)


def _entry(feed: ET.Element, base: str, view: PostView) -> None:
    """One post of the feed as an Atom entry."""
    post = view.post
    entry = ET.SubElement(feed, "entry")
    ET.SubElement(entry, "title").text = post.title
    ET.SubElement(entry, "id").text = f"{base}/posts/{post.id}"
    ET.SubElement(entry, "link", href=f"{base}/posts/{post.id}")
    ET.SubElement(entry, "published").text = iso(post.created_at)
    ET.SubElement(entry, "updated").text = iso(post.updated_at)
    author = ET.SubElement(entry, "author")
    ET.SubElement(author, "name").text = view.author.display_name if view.author else "网友"
    if post.category:
        ET.SubElement(entry, "category", term=post.category)
    # Sanitised HTML, escaped once more by the XML writer, as type="html" expects.
    ET.SubElement(entry, "content", type="html").text = post.html
