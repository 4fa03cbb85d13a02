"""Small files for upload tests, made here rather than shipped."""

from __future__ import annotations

import io

from PIL import Image

GPS_TAG = 0x8825


def jpeg_with_location() -> bytes:
    """A real JPEG whose EXIF holds a camera make and a GPS position."""
    image = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_TAG] = {1: "N", 2: (24.0, 21.0, 0.0)}  # GPSLatitudeRef, GPSLatitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
