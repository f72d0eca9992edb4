"""Shopper-uploaded photos: the one place an uploaded image is checked and made safe to serve.

Every photo a shopper uploads goes through :func:`photo_sanitize` before it is stored. The
upload's name and declared content type are ignored; only what Pillow reads from the bytes
counts.
"""

import io
import uuid

from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from .exceptions import InvalidReview

PHOTO_MAX_BYTES = 5 * 1024 * 1024
# 40 megapixels: more than any phone camera, far below a decompression bomb's size.
PHOTO_MAX_PIXELS = 40_000_000
# Stored photos are scaled down to at most this many pixels on the longest side.
PHOTO_MAX_SIDE = 2048
# Pillow format name -> (stored extension, save options). The extension decides the
# Content-Type the photo is served with, so it always matches the bytes.
FORMATS = {
    "JPEG": ("jpg", {"quality": 88, "optimize": True}),
    "PNG": ("png", {"optimize": True}),
    "WEBP": ("webp", {"quality": 88}),
}


def photo_sanitize(upload) -> ContentFile:
    """Check an uploaded image by its content and return a clean copy to store.

    Guarantees about the returned file: it is a JPEG, PNG or WebP (the upload's own format,
    read from its bytes), at most ``PHOTO_MAX_SIDE`` pixels on its longest side, turned upright
    from its EXIF orientation, and carries no metadata at all (no EXIF, so no GPS location, no
    camera serial, no ICC or text chunks). Its name is random, with the extension of its format.

    ``upload``: a Django ``UploadedFile`` (or any file object with ``size`` and ``read``).
    Raises :class:`InvalidReview` with a message for the shopper when the file is larger than
    ``PHOTO_MAX_BYTES``, is not an image Pillow can read, is another format (GIF, SVG, TIFF ...),
    or has more than ``PHOTO_MAX_PIXELS`` pixels (checked from the header, before decoding).
    """
    if upload.size > PHOTO_MAX_BYTES:
        raise InvalidReview("Each photo must be smaller than 5 MB.")
    upload.seek(0)
    try:
        image = Image.open(upload)
        if image.format not in FORMATS:
            raise InvalidReview("Photos must be JPEG, PNG or WebP images.")
        if image.width * image.height > PHOTO_MAX_PIXELS:
            raise InvalidReview("That photo has too many pixels: at most 40 megapixels.")
        image.load()
    except InvalidReview:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidReview("That file is not a photo we can read (JPEG, PNG or WebP).") from None
    extension, options = FORMATS[image.format]
    clean = ImageOps.exif_transpose(image)
    clean.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    if extension == "jpg" and clean.mode not in ("RGB", "L"):
        clean = clean.convert("RGB")
    # A new image from the pixels alone: nothing of the original's info dict is carried over.
    pixels = Image.new(clean.mode, clean.size)
    pixels.paste(clean)
    if clean.mode == "P":
        pixels.putpalette(clean.getpalette())
    out = io.BytesIO()
    pixels.save(out, format=image.format, **options)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")
