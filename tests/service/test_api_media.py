# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""Uploads (sniffed, size-limited early, stored) and file references in storyboards: only the
caller's own uploads, never a path, URL or ffmpeg protocol string."""

from __future__ import annotations

import io
from typing import Any

from conftest_api import Api, api, assert_problem, make_api  # noqa: F401
from PIL import Image


def _png(size: tuple[int, int] = (32, 18)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def upload(
    api: Api, key: str, data: bytes, name: str = "photo.png", content_type: str = "image/png"
) -> Any:
    return api.client.post(
        "/api/media", headers=api.headers(key), files={"file": (name, data, content_type)}
    )


def test_upload_is_sniffed_stored_and_usable(api: Api) -> None:
    key = api.key()
    data = _png()
    response = upload(api, key, data, name="../../etc/my photo.png")
    assert response.status_code == 201, response.text
    media = response.json()
    assert media["kind"] == "image" and media["content_type"] == "image/png"
    assert media["size"] == len(data)
    assert media["filename"] == "my photo.png"  # only the last part, for display
    assert media["reference"] == f"media:{media['id']}.png"
    stored = list(api.service.storage.root.rglob("original.png"))
    assert [p.read_bytes() for p in stored] == [data]
    again = api.client.get(f"/api/media/{media['id']}", headers=api.headers(key))
    assert again.json()["sha256"] == media["sha256"]

    board = {
        "scenes": [{"narration": "A picture.", "visual": f"media:{media['id']}"}],
        "music": "none",
    }
    job_id = api.submit(key, {"storyboard": board, "preview": True})
    assert api.wait(job_id, key)["status"] == "completed"
    script = f"A picture.\n\n![a photo](media:{media['id']})\n"
    job_id = api.submit(key, {"script": script, "preview": True, "music": "none"})
    assert api.wait(job_id, key)["status"] == "completed"


def test_wrong_content_is_415(api: Api) -> None:
    key = api.key()
    body = assert_problem(upload(api, key, b"#EXTM3U\nhttp://evil/x.ts\n", "x.png"), 415)
    assert "image" in body["hint"].lower() or "png" in body["hint"].lower()
    assert_problem(upload(api, key, _png(), "a.png", "audio/mpeg"), 415)
    response = api.client.post(
        "/api/media", headers={**api.headers(key), "Content-Type": "image/png"}, content=_png()
    )
    assert_problem(response, 415)


def test_oversize_upload_is_413_before_and_while_streaming(api: Api) -> None:
    key = api.key()
    limit = api.settings.upload_max_bytes
    big = _png() + b"\0" * (limit + 128 * 1024)
    body = assert_problem(upload(api, key, big), 413)
    assert str(limit) in body["detail"]
    # A body with no Content-Length (chunked) is counted as it arrives.

    def chunks() -> Any:
        boundary = b"--b0undary"
        yield boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        yield b"Content-Type: image/png\r\n\r\n"
        for _ in range((limit // 65536) + 3):
            yield b"\0" * 65536
        yield b"\r\n" + boundary + b"--\r\n"

    response = api.client.post(
        "/api/media",
        content=chunks(),
        headers={**api.headers(key), "Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert_problem(response, 413)
    # Just over the limit but inside the multipart allowance: refused by the stored size.
    near = _png() + b"\0" * (limit - len(_png()) + 10)
    assert_problem(upload(api, key, near), 413)
    assert not list(api.service.storage.root.rglob("original*"))


def test_malformed_uploads_are_400(api: Api) -> None:
    key = api.key()
    no_file = api.client.post("/api/media", headers=api.headers(key), files={"other": (None, "x")})
    assert "no file" in assert_problem(no_file, 400)["detail"]
    form = api.client.post("/api/media", headers=api.headers(key), data={"file": "x"})
    assert_problem(form, 415)
    broken = api.client.post(
        "/api/media",
        content=b"--x\r\nnonsense",
        headers={**api.headers(key), "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert broken.status_code in (400, 415), broken.text
    empty = upload(api, key, b"")
    assert empty.status_code in (400, 415)


UNSAFE = [
    "/etc/passwd.png",
    "../../../../etc/hosts.png",
    "pictures/../../secret.png",
    "http://169.254.169.254/latest.png",
    "https://example.com/a.mp4",
    "file:/etc/passwd.png",
    "concat:/etc/passwd|/etc/hosts.mp4",
    "subfile,,start,0,end,100,,:/etc/passwd.mp4",
    "playlist.m3u8",
    "C:\\Windows\\win.ini.png",
    "~/photo.png",
    "photo.png",  # even a plain name: files come only from uploads
]


def test_storyboard_paths_are_refused(api: Api) -> None:
    key = api.key()
    h = api.headers(key)
    for path in UNSAFE:
        _refused_everywhere(api, h, path)
    assert api.client.get("/api/jobs", headers=h).json()["total"] == 0


def _refused_everywhere(api: Api, h: dict[str, str], path: str) -> None:
    boards = [
        {"scenes": [{"narration": "Hi.", "visual": {"type": "image", "path": path}}]},
        {"scenes": [{"narration": "Hi.", "visual": {"type": "video", "path": path}}]},
        {"scenes": ["Hi."], "music": {"path": path}},
        {"scenes": ["Hi."], "watermark": {"path": path}},
        {"scenes": ["Hi."], "narration": {"path": path}},
        {"scenes": ["Hi."], "captions": {"file": path}},
        {"scenes": ["Hi."], "character": {"image": path}},
    ]
    for board in boards:
        response = api.client.post("/api/videos", headers=h, json={"storyboard": board})
        assert response.status_code == 422, (path, board, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    script = api.client.post("/api/videos", headers=h, json={"script": f"Hi.\n\n![x]({path})\n"})
    assert script.status_code == 422, (path, script.text)


def test_someone_elses_upload_is_refused(api: Api) -> None:
    alice, mallory = api.key("alice"), api.key("mallory")
    media = upload(api, alice, _png()).json()
    assert_problem(api.client.get(f"/api/media/{media['id']}", headers=api.headers(mallory)), 404)
    board = {"scenes": [{"narration": "Hi.", "visual": media["reference"]}]}
    response = api.client.post(
        "/api/videos", headers=api.headers(mallory), json={"storyboard": board}
    )
    assert "unknown media" in assert_problem(response, 422)["detail"]
    # An image given as music is refused too.
    wrong_kind = {"scenes": ["Hi."], "music": {"path": media["reference"]}}
    response = api.client.post(
        "/api/videos", headers=api.headers(alice), json={"storyboard": wrong_kind}
    )
    assert_problem(response, 422)
