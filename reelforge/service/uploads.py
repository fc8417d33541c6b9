"""Uploads: what ``POST /api/media`` stores, and the checks that make a file safe to render.

A file is accepted when its first bytes name a format reelforge reads (:func:`sniff`) and
ffprobe/Pillow agree it is that kind of media. The bytes stream to a temporary file in the work
folder while the size limit is counted, so an oversize upload never fills the disk; only a
verified file reaches storage.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

from sqlalchemy import select

from reelforge.errors import MediaError
from reelforge.service.db import Database
from reelforge.service.models import Media, new_id, utcnow
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage import Storage

T = TypeVar("T")

__all__ = ["InvalidUpload", "UnsupportedMedia", "UploadTooLarge", "sniff", "store_upload"]


class UploadTooLarge(MediaError):
    """An upload passed ``upload_max_bytes``."""


class UnsupportedMedia(MediaError):
    """An upload is not an image, sound or video we accept, or is declared as another kind."""


class InvalidUpload(MediaError):
    """An upload is not what its first bytes claim (a disguised playlist), is corrupt, or has
    more pixels than a render can use (answered 422)."""


# --- what a file is ---------------------------------------------------------------------------

_MAGIC: list[tuple[int, bytes, str, str, str]] = [
    # offset, bytes, kind, content type, extension
    (0, b"\x89PNG\r\n\x1a\n", "image", "image/png", ".png"),
    (0, b"\xff\xd8\xff", "image", "image/jpeg", ".jpg"),
    (0, b"GIF87a", "image", "image/gif", ".gif"),
    (0, b"GIF89a", "image", "image/gif", ".gif"),
    (0, b"BM", "image", "image/bmp", ".bmp"),
    (0, b"ID3", "audio", "audio/mpeg", ".mp3"),
    (0, b"fLaC", "audio", "audio/flac", ".flac"),
    (0, b"OggS", "audio", "audio/ogg", ".ogg"),
    (0, b"\x1a\x45\xdf\xa3", "video", "video/webm", ".webm"),
]


def sniff(head: bytes) -> tuple[str, str, str] | None:
    """``(kind, content type, extension)`` from a file's first bytes, or ``None``."""
    if head[:4] == b"RIFF" and len(head) >= 12:
        tag = head[8:12]
        if tag == b"WEBP":
            return "image", "image/webp", ".webp"
        if tag == b"WAVE":
            return "audio", "audio/wav", ".wav"
        if tag == b"AVI ":
            return "video", "video/x-msvideo", ".avi"
        return None
    if head[4:8] == b"ftyp" and len(head) >= 12:
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio", "audio/mp4", ".m4a"
        if brand == b"qt  ":
            return "video", "video/quicktime", ".mov"
        if brand in (b"avif", b"heic", b"heix", b"mif1"):
            return None  # stills ffmpeg and Pillow may not read: refused, not guessed
        return "video", "video/mp4", ".mp4"
    for offset, magic, kind, content_type, extension in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if extension == ".bmp" and len(head) < 14:
                continue
            return kind, content_type, extension
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and head[1] != 0xFF:
        return "audio", "audio/mpeg", ".mp3"  # an MPEG audio frame sync without ID3 tag
    return None


# The demuxer ffprobe must find for each sniffed format. First bytes are easy to fake: an ID3
# tag followed by an #EXTM3U playlist sniffs as mp3, and ffmpeg, left to guess, plays whatever
# local files the playlist names (another tenant's video). Nothing outside this table is
# accepted: no hls, concat, playlist, "data" or tty format whatever the file starts with.
_DEMUXER_OF = {
    ".png": "png_pipe",
    ".jpg": "jpeg_pipe",
    ".gif": "gif",
    ".bmp": "bmp_pipe",
    ".webp": "webp_pipe",
    ".mp3": "mp3",
    ".wav": "wav",
    ".flac": "flac",
    ".ogg": "ogg",
    ".m4a": "mov",
    ".mp4": "mov",
    ".mov": "mov",
    ".webm": "matroska",
    ".avi": "avi",
}
_PILLOW_FORMAT = {".png": "PNG", ".jpg": "JPEG", ".gif": "GIF", ".bmp": "BMP", ".webp": "WEBP"}
_FORMATS_HINT = (
    "images: PNG, JPEG, GIF, WebP, BMP; sound: WAV, MP3, FLAC, Ogg, M4A; "
    "video: MP4, MOV, WebM/MKV, AVI"
)


def _verify_media(path: Path, kind: str, extension: str, max_pixels: int) -> str:
    """Check the received file is what its first bytes claim; returns the kind (an mp4 of
    sound is audio). Nothing is decoded in this process: an image's header is read for its
    format and size, and ffprobe (another process) names the demuxer."""
    from reelforge.media.images import read_image_header
    from reelforge.media.probe import probe

    if kind == "image":
        header = _checked(lambda: read_image_header(path, max_pixels, name="you uploaded"), path)
        if header.format != _PILLOW_FORMAT[extension]:
            raise InvalidUpload(
                f"the upload starts like {extension[1:].upper()} but is {header.format}",
                hint="send the file as it is, not renamed or re-wrapped",
            )
    info = _checked(lambda: probe(path), path)
    if info.demuxer != _DEMUXER_OF[extension]:
        raise InvalidUpload(
            f"the upload starts like {extension[1:].upper()} but ffmpeg reads it as "
            f"{info.format_name or 'something else'}",
            hint="send a plain media file (" + _FORMATS_HINT + "); playlists are refused",
        )
    if kind == "image":
        return kind
    if kind == "audio" and not info.has_audio:
        raise UnsupportedMedia("the file has no audio track", hint="upload a sound file")
    if kind == "video" and not info.has_video:
        if info.has_audio:
            return "audio"
        raise UnsupportedMedia("the file has no video track", hint="upload a video file")
    if kind == "audio" and info.has_video and info.format_name.startswith("ogg"):
        return "video"  # an Ogg with Theora pictures
    return kind


def _checked(check: Callable[[], T], path: Path) -> T:
    """``check()``, its MediaError turned into an InvalidUpload that names no server path
    (the temporary file lives in the data folder)."""
    try:
        return check()
    except MediaError as error:
        message = error.message.replace(f"the image {path}", "the image")
        message = message.replace(str(path), "the upload")
        raise InvalidUpload(message, hint=error.hint) from None


def _chunks(stream: BinaryIO | Iterable[bytes], size: int = 1024 * 1024) -> Iterator[bytes]:
    read = getattr(stream, "read", None)
    if read is not None:
        while True:
            chunk = read(size)
            if not chunk:
                return
            yield chunk
    else:
        yield from stream


def _receive(
    stream: BinaryIO | Iterable[bytes], into: Path, limit: int
) -> tuple[Path, str, int, bytes]:
    """Write ``stream`` to a new temporary file in ``into``: ``(path, sha256, size, first bytes)``.
    Raises :class:`UploadTooLarge` as soon as the limit is passed (the file is removed)."""
    into.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    with tempfile.NamedTemporaryFile(dir=into, prefix="upload-", delete=False) as handle:
        temporary = Path(handle.name)
        try:
            for chunk in _chunks(stream):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(
                        f"the upload is larger than the limit of {limit} bytes",
                        hint="send a smaller file or raise REELFORGE_UPLOAD_MAX_BYTES",
                    )
                if len(head) < 64:
                    head += chunk[: 64 - len(head)]
                digest.update(chunk)
                handle.write(chunk)
        except BaseException:
            handle.close()
            temporary.unlink(missing_ok=True)
            raise
    return temporary, digest.hexdigest(), size, head


def _identify(
    temporary: Path, size: int, head: bytes, declared_type: str | None, max_pixels: int
) -> tuple[str, str, str]:
    """``(kind, content type, extension)`` of a received file, verified, or UnsupportedMedia."""
    if size == 0:
        raise UnsupportedMedia("the upload is empty", hint="send the file's bytes")
    sniffed = sniff(head)
    if sniffed is None:
        raise UnsupportedMedia(
            "the upload is not an image, sound or video format reelforge reads",
            hint=_FORMATS_HINT,
        )
    kind, content_type, extension = sniffed
    kind = _verify_media(temporary, kind, extension, max_pixels)
    if kind == "audio" and extension == ".mp4":
        content_type, extension = "audio/mp4", ".m4a"
    declared_kind = (declared_type or "").split("/", 1)[0].strip().lower()
    if declared_kind in ("image", "audio", "video") and declared_kind != kind:
        raise UnsupportedMedia(
            f"the upload says it is {declared_type} but its content is {content_type}",
            hint="send the right file, or the right Content-Type",
        )
    return kind, content_type, extension


def store_upload(
    db: Database,
    storage: Storage,
    settings: ServiceSettings,
    owner: str | None,
    filename: str | None,
    stream: BinaryIO | Iterable[bytes],
    declared_type: str | None = None,
) -> Media:
    """Store an uploaded image/audio/video; the type is sniffed from the content (a declared
    type of another kind is refused with :class:`UnsupportedMedia`; a subtype is corrected),
    the size limit enforced while reading (:class:`UploadTooLarge`)."""
    work = Path(settings.work_dir or settings.data_dir / "work") / "uploads"
    temporary, sha256, size, head = _receive(stream, work, settings.upload_max_bytes)
    try:
        kind, content_type, extension = _identify(
            temporary, size, head, declared_type, settings.max_image_pixels
        )
        same = _same_upload(db, storage, owner, sha256, kind)
        if same is not None:
            return same  # the owner uploaded these bytes before: no second copy
        media_id = new_id()
        key = f"media/{media_id}/original{extension}"
        storage.put_file(key, temporary, content_type)
    finally:
        temporary.unlink(missing_ok=True)
    clean_name = None
    if filename:
        clean_name = re.sub(r"[\x00-\x1f/\\]", "_", filename.rsplit("/", 1)[-1])[:255]
    with db.transaction() as session:
        media = Media(
            id=media_id,
            owner=owner,
            sha256=sha256,
            kind=kind,
            content_type=content_type,
            extension=extension,
            filename=clean_name,
            size=size,
            key=key,
            created_at=utcnow(),
        )
        session.add(media)
    return media


def _same_upload(
    db: Database, storage: Storage, owner: str | None, sha256: str, kind: str
) -> Media | None:
    with db.session() as session:
        candidates = session.scalars(
            select(Media).where(Media.sha256 == sha256, Media.kind == kind)
        ).all()
    for media in candidates:
        if media.owner == owner and storage.exists(media.key):
            return media
    return None
