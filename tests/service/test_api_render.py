# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""One real render through the API: a preview job, then its video probed and fetched in ranges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest_api import Api, make_api  # noqa: F401


def test_real_preview_render_through_the_api(make_api: Any, tmp_path: Path) -> None:
    from reelforge.media.probe import probe

    api: Api = make_api()
    key = api.key()
    job_id = api.submit(
        key, {"script": "Hello there. This is a test.", "music": "none", "preview": True}
    )
    job = api.wait(job_id, key, timeout=240)
    assert job["status"] == "completed", job
    h = api.headers(key)
    video = api.client.get(f"/api/jobs/{job_id}/files/video", headers=h)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    path = tmp_path / "got.mp4"
    path.write_bytes(video.content)
    info = probe(path)
    assert info.has_video and info.has_audio
    assert 1000 < info.duration_ms < 10_000
    assert info.video_codec == "h264"
    # Seek: the last kilobyte, as a player does to find the index.
    tail = api.client.get(f"/api/jobs/{job_id}/files/video", headers={**h, "Range": "bytes=-1024"})
    assert tail.status_code == 206 and tail.content == video.content[-1024:]
    srt = api.client.get(f"/api/jobs/{job_id}/files/captions.srt", headers=h).text
    assert "Hello there." in srt and "-->" in srt
    vtt = api.client.get(f"/api/jobs/{job_id}/files/captions.vtt", headers=h).text
    assert vtt.startswith("WEBVTT")
    manifest = api.client.get(f"/api/jobs/{job_id}/files/manifest", headers=h).json()
    assert manifest["video"].endswith(".mp4")
    thumb = api.client.get(f"/api/jobs/{job_id}/files/thumbnail", headers=h)
    assert thumb.content[:3] == b"\xff\xd8\xff"
