# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""One real render through the API: a preview job, then its video probed and fetched in ranges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest_api import Api, make_api  # noqa: F401
from fakes import fake_voice  # noqa: F401


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


def test_translated_captions_through_the_api(
    make_api: Any, tmp_path: Path, monkeypatch: Any, fake_voice: Any
) -> None:
    """`translate` in a video request: refused at submit without an engine (naming the
    settings), else the job's downloads include captions.fr.srt/.vtt and the MP4 carries the
    French soft subtitle track (ffprobe)."""
    import json
    import re

    from chat_server import FakeChatServer

    from reelforge.media.ffmpeg import run_ffprobe
    from reelforge.settings import get_settings

    def french(body: dict[str, Any]) -> str:
        cues = json.loads(body["messages"][1]["content"])
        return json.dumps({"translations": [f"FR {cue}" for cue in cues]})

    for name in ("LLM_ENDPOINT", "TRANSLATION_MODEL", "TRANSLATION_ENGINE"):
        monkeypatch.delenv(f"REELFORGE_{name}", raising=False)
    get_settings.cache_clear()
    api: Api = make_api()
    key = api.key()
    h = api.headers(key)
    request = {
        "script": "Hello there. This is a test.",
        "music": "none",
        "voice": "fake-adult-male",
        "preview": True,
        "translate": ["fr"],
    }
    refused = api.client.post("/api/videos", json=request, headers=h)
    assert refused.status_code == 422, refused.text
    assert "REELFORGE_TRANSLATION_MODEL" in refused.json()["hint"]
    with FakeChatServer(answer=french) as server:
        monkeypatch.setenv("REELFORGE_LLM_ENDPOINT", server.url)
        get_settings.cache_clear()
        try:
            job = api.wait(api.submit(key, request), key, timeout=240)
        finally:
            get_settings.cache_clear()
    assert job["status"] == "completed", job
    assert {"captions.fr.srt", "captions.fr.vtt"} <= set(job["links"]["files"])
    srt = api.client.get(job["links"]["files"]["captions.fr.srt"], headers=h).text
    english = api.client.get(job["links"]["files"]["captions.srt"], headers=h).text
    assert "FR Hello there." in srt
    stamps = r"\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d"
    assert re.findall(stamps, srt) == re.findall(stamps, english)
    path = tmp_path / "got.mp4"
    path.write_bytes(api.client.get(job["links"]["files"]["video"], headers=h).content)
    streams = json.loads(run_ffprobe(["-show_streams", "-of", "json", str(path)]))["streams"]
    subtitles = [s for s in streams if s["codec_type"] == "subtitle"]
    assert [(s["codec_name"], s["tags"]["language"]) for s in subtitles] == [("mov_text", "fra")]
