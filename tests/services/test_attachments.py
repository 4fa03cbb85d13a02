"""Uploads an attacker would try: polyglots, wrong extensions, pixel and zip bombs, path tricks
in file names (forum/services/attachments.py)."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from forum.errors import Invalid
from forum.services import attachments
from tests.support import files


def png_of(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG", optimize=True)  # tiny when compressed
    return out.getvalue()


@pytest.mark.gen_test
async def test_a_pixel_bomb_is_refused():
    bomb = png_of(20_000, 20_000)
    assert len(bomb) < 200_000
    with pytest.raises(Invalid) as caught:
        await attachments.prepare([("big.png", bomb)])
    assert "files" in caught.value.fields


@pytest.mark.gen_test
async def test_a_jpeg_carrying_html_is_cleaned_by_reencoding():
    polyglot = files.jpeg_with_location() + b"<script>alert(1)</script><html>"
    ((name, kind, data),) = await attachments.prepare([("photo.jpg", polyglot)])
    assert kind == "image/jpeg" and b"<script" not in data and b"<html" not in data


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "name, data",
    [
        ("evidence.jpg", b"<html><script>alert(1)</script></html>"),  # wrong extension
        ("archive.pdf", b"PK\x03\x04" + b"\x00" * 40),  # a zip named .pdf
        ("document.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        ("x.gif", b"GIF89a" + b"\x00" * 20),
    ],
)
async def test_only_jpeg_png_and_pdf_by_their_bytes(name, data):
    with pytest.raises(Invalid):
        await attachments.prepare([(name, data)])


@pytest.mark.gen_test
async def test_a_zip_bomb_is_just_a_refused_type():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros", b"\x00" * 10_000_000)
    with pytest.raises(Invalid):
        await attachments.prepare([("bomb.pdf", out.getvalue())])


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\system32.png", "system32.png"),
        ("a\x00b<c>.png", "abc.png"),
        ("", "attachment.png"),
        (None, "attachment.png"),
        ("报告.exe", "报告.png"),  # the extension follows the bytes, never the name
        ("." * 10 + ".png", "attachment.png"),
    ],
)
async def test_file_names_cannot_climb_or_lie(name, expected):
    ((safe, _kind, _data),) = await attachments.prepare([(name, files.png())])
    assert safe == expected
