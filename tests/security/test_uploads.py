"""Attacks on ``POST /api/media`` (issue 8): disguised playlists, pixel bombs, path leaks.

Each attack is sent through the HTTP API as a tenant would, and shown to fail to harm: the
upload is refused, nothing is stored, and the answer names no server path.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from conftest_api import Api, assert_problem

from reelforge.service.models import Media


def _upload(api: Api, key: str, name: str, data: bytes, content_type: str) -> Any:
    return api.client.post(
        "/api/media",
        files={"file": (name, io.BytesIO(data), content_type)},
        headers=api.headers(key),
    )


def _playlist(target: str) -> bytes:
    return (f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{target}\n#EXT-X-ENDLIST\n").encode()


ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00"  # an ID3v2.4 tag header with an empty body


def _media_rows(api: Api) -> int:
    with api.service.db.session() as session:
        return len(session.query(Media).all())


def _assert_no_server_path(api: Api, text: str) -> None:
    data = Path(api.settings.data_dir)
    for root in {data, data.resolve(), Path(api.settings.work_dir or data)}:
        assert str(root) not in text
    assert "/tmp" not in text and "upload-" not in text


@pytest.fixture
def victim_file(api: Api, tmp_media: Any) -> tuple[str, str]:
    """Alice's narration, uploaded and stored: ``(her key, the stored file's server path)``."""
    alice = api.key("alice")
    tone = tmp_media.make_tone("secret.mp3", seconds=1.0).read_bytes()
    response = _upload(api, alice, "secret.mp3", tone, "audio/mpeg")
    assert response.status_code == 201, response.text
    key = api.service.get_media(response.json()["id"]).key
    return alice, str(api.service.storage.root / key)


def test_disguised_playlist_declared_as_audio_is_refused(
    api: Api, victim_file: tuple[str, str]
) -> None:
    """The issue's 104-byte file: an ID3 header, then a playlist naming Alice's stored file."""
    _, secret_path = victim_file
    attack = ID3 + _playlist(secret_path)
    before = _media_rows(api)
    started = time.monotonic()
    response = _upload(api, api.key("mallory"), "song.mp3", attack, "audio/mpeg")
    body = assert_problem(response, 422)
    assert "hls" in body["detail"] and "playlist" in body["detail"]
    assert time.monotonic() - started < 5
    assert _media_rows(api) == before  # nothing stored, nothing to refer to as media:<id>
    _assert_no_server_path(api, response.text)


def test_disguised_playlist_in_an_mp4_wrapper_is_refused(
    api: Api, victim_file: tuple[str, str]
) -> None:
    """First bytes of an MP4 (``ftyp``) before the playlist; and the playlist as plain text."""
    _, secret_path = victim_file
    mallory = api.key("mallory")
    wrapped = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + _playlist(secret_path)
    response = _upload(api, mallory, "clip.mp4", wrapped, "video/mp4")
    _assert_no_server_path(api, assert_problem(response, 422)["detail"] + response.text)
    bare = _upload(api, mallory, "list.m3u8", _playlist(secret_path), "video/mp4")
    assert_problem(bare, 415)  # not media at all
    _assert_no_server_path(api, bare.text)
    assert _media_rows(api) == 1  # only Alice's own upload


def _store_behind_the_checks(api: Api, owner: str, data: bytes, extension: str) -> str:
    """A media row and stored file as an older server (or a bug) might have let through."""
    from reelforge.service.models import new_id, utcnow

    media_id = new_id()
    key = f"media/{media_id}/original{extension}"
    api.service.storage.put_bytes(key, data, "audio/mpeg")
    with api.service.db.transaction() as session:
        session.add(
            Media(
                id=media_id,
                owner=owner,
                sha256="0" * 64,
                kind="audio",
                content_type="audio/mpeg",
                extension=extension,
                filename="song.mp3",
                size=len(data),
                key=key,
                created_at=utcnow(),
            )
        )
    return media_id


def test_a_stored_playlist_cannot_reach_a_render(make_api: Any, tmp_media: Any) -> None:
    """Defence in depth: a disguised playlist that got into storage anyway is used as music
    in a real render. The render refuses it before ffmpeg plays anything, and the job's error
    names the format, not a server path."""
    api = make_api()
    alice = api.key("alice")
    tone = tmp_media.make_tone("secret.mp3", seconds=1.0).read_bytes()
    stored = _upload(api, alice, "secret.mp3", tone, "audio/mpeg")
    secret_path = api.service.storage.root / api.service.get_media(stored.json()["id"]).key
    mallory = api.key("mallory")
    media_id = _store_behind_the_checks(api, "mallory", ID3 + _playlist(str(secret_path)), ".mp3")
    job_id = api.submit(
        mallory,
        {"script": "Hello there.", "music": f"media:{media_id}", "preview": True},
    )
    job = api.wait(job_id, mallory, timeout=120)
    assert job["status"] == "failed", job
    assert "hls" in job["error"], job
    _assert_no_server_path(api, str(job))
    events = api.client.get(f"/api/jobs/{job_id}/events", headers=api.headers(mallory))
    _assert_no_server_path(api, events.text)


def test_job_errors_name_files_not_server_paths(api: Api, fake_make: Any, tmp_media: Any) -> None:
    """ffmpeg's stderr names inputs by absolute path under the data folder: the stored job
    error and hint keep the file's name only."""
    from reelforge.errors import RenderError

    def fail(storyboard: Any) -> None:
        path = storyboard.music.path
        raise RenderError(
            f"ffmpeg failed (exit code 1): {path}: Invalid data found when processing input",
            hint=f"the input file is corrupt or not a media file: {path}",
        )

    fake_make.before = fail
    key = api.key("alice")
    tone = tmp_media.make_tone("song.mp3", seconds=0.5).read_bytes()
    media_id = _upload(api, key, "song.mp3", tone, "audio/mpeg").json()["id"]
    job_id = api.submit(key, {"script": "Hello.", "music": f"media:{media_id}", "preview": True})
    job = api.wait(job_id, key)
    assert job["status"] == "failed"
    assert "Invalid data found" in job["error"] and ".mp3" in job["error"]
    _assert_no_server_path(api, str(job))


def _png_header_only(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` white pixels, compressed to almost nothing."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    squeeze = zlib.compressobj(9)
    data = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every image decode in this process (Pillow's load, OpenCV's imread)."""
    import cv2
    from PIL import ImageFile

    seen: list[str] = []
    load, imread = ImageFile.ImageFile.load, cv2.imread

    def counted_load(self: Any) -> Any:
        seen.append("pillow")
        return load(self)

    def counted_imread(*args: Any, **kwargs: Any) -> Any:
        seen.append("opencv")
        return imread(*args, **kwargs)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted_load)
    monkeypatch.setattr(cv2, "imread", counted_imread)
    return seen


def test_pixel_bomb_png_is_refused_without_decoding(api: Api, decodes: list[str]) -> None:
    """12000 x 12000 pixels in a few hundred KB: refused from its header, quickly."""
    bomb = _png_header_only(12000, 12000)
    assert len(bomb) < 1_000_000
    started = time.monotonic()
    response = _upload(api, api.key("mallory"), "bomb.png", bomb, "image/png")
    elapsed = time.monotonic() - started
    body = assert_problem(response, 422)
    assert "12000 x 12000" in body["detail"] and "million pixels" in body["detail"]
    assert elapsed < 3, elapsed
    assert decodes == []
    assert _media_rows(api) == 0
    _assert_no_server_path(api, response.text)


def test_images_within_the_limit_are_stored_without_being_decoded(
    make_api: Any, fake_make: Any, tmp_media: Any, decodes: list[str]
) -> None:
    api = make_api(max_image_pixels=320 * 180)
    key = api.key("alice")
    fits = tmp_media.make_image("fits.png", size=(320, 180)).read_bytes()
    too_big = tmp_media.make_image("big.png", size=(321, 180)).read_bytes()
    decodes.clear()  # making the test images decoded nothing through the API, but clear anyway
    assert _upload(api, key, "fits.png", fits, "image/png").status_code == 201
    assert decodes == []
    refused = _upload(api, key, "big.png", too_big, "image/png")
    assert "0.0576 million pixels" in assert_problem(refused, 422)["detail"]


def test_corrupt_upload_errors_name_no_server_path(api: Api) -> None:
    mallory = api.key("mallory")
    for name, data, declared in (
        ("x.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png"),
        ("x.mp3", ID3 + b"\0" * 200, "audio/mpeg"),
        ("x.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\0" * 200, "video/mp4"),
        ("x.wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\0" * 40, "audio/wav"),
    ):
        response = _upload(api, mallory, name, data, declared)
        assert response.status_code in (415, 422), response.text
        _assert_no_server_path(api, response.text)
    assert _media_rows(api) == 0
