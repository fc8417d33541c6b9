"""Image headers read without decoding, and decodes bounded by what a render can use.

A 420 KB PNG can declare 12000 x 12000 pixels and take 576 MB to decode. Everything that opens
a user's picture reads its header first (Pillow's ``open`` parses the header only), refuses more
pixels than ``MAX_IMAGE_PIXELS``, and decodes big JPEGs at a reduced scale (libjpeg decodes at
1/2, 1/4 or 1/8 for almost nothing).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from reelforge.errors import MediaError

__all__ = ["MAX_IMAGE_PIXELS", "ImageHeader", "read_image_header", "reduction"]

# 40 MP: a 7680 x 5120 photo. A 1080p frame is 2 MP and a Ken Burns zoom of 2 needs 8 MP of
# source, so this leaves room for 4K renders and phone/camera photos as they come, while a
# decode stays under 160 MB (RGBA).
MAX_IMAGE_PIXELS = 40_000_000
# Formats reelforge reads pictures in (Pillow's names).
IMAGE_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP", "BMP"})
# A decoded picture's longest side need not exceed this (a 4K frame with room to zoom).
USEFUL_SIDE = 3840


@dataclass(frozen=True)
class ImageHeader:
    format: str  # Pillow's name: "PNG", "JPEG", ...
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_image_header(
    path: Path, max_pixels: int = MAX_IMAGE_PIXELS, name: str | None = None
) -> ImageHeader:
    """Format and size from the header alone (no pixel is decoded); ``MediaError`` for a file
    that is not a PNG/JPEG/GIF/WebP/BMP or that has more than ``max_pixels`` pixels. ``name``
    is how errors call the file (default: its path)."""
    from PIL import Image, UnidentifiedImageError

    called = name or str(path)
    try:
        with warnings.catch_warnings():  # Pillow warns over 89 MP: the limit below decides
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # parses the header only
                header = ImageHeader(str(image.format), int(image.width), int(image.height))
    except Image.DecompressionBombError:
        header = None  # Pillow's own limit (about 179 MP) is far above ours
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise MediaError(
            f"the image {called} is corrupt or not an image",
            hint="re-export it as PNG or JPEG and check that it opens in an image viewer",
        ) from error
    if header is None or header.pixels > max_pixels:
        size = f" ({header.width} x {header.height})" if header else ""
        raise MediaError(
            f"the image {called}{size} has more than {max_pixels / 1e6:g} million pixels, "
            "more than a video frame can use",
            hint="resize it to at most a few thousand pixels a side (4K is 3840 x 2160)",
        )
    if header.format not in IMAGE_FORMATS:
        raise MediaError(
            f"the image {called} is {header.format}, a format reelforge does not read",
            hint="convert it to PNG, JPEG, WebP, GIF or BMP",
        )
    return header


def reduction(header: ImageHeader, useful_side: int = USEFUL_SIDE) -> int:
    """1, 2, 4 or 8: how much smaller a JPEG can be decoded and still be large enough."""
    factor = 1
    while factor < 8 and max(header.width, header.height) // (factor * 2) >= useful_side:
        factor *= 2
    return factor if header.format == "JPEG" else 1
