# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""``POST /api/clips``: an uploaded talk through the generic job seam, run for real (Whisper
tiny.en, face tracking, one encode per clip); bounds and references checked at submit."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest_api import Api, assert_problem, make_api  # noqa: F401

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/ (the talking-head maker)
from clips_media import narrate, talking_head  # noqa: E402


@pytest.fixture
def talk_mp4(tmp_path: Path) -> bytes:
    narration = narrate(
        ["Why is pricing so hard?", "Because nobody tells you what customers will pay."],
        tmp_path / "voice",
    )
    video, _ = talking_head(tmp_path / "talk.mp4", narration, (320, 180))
    return video.read_bytes()


def _upload(api: Api, key: str, data: bytes) -> dict[str, Any]:
    response = api.client.post(
        "/api/media", headers=api.headers(key), files={"file": ("talk.mp4", data, "video/mp4")}
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_clips_job_lists_ranked_clips_with_downloads(
    make_api: Callable[..., Api], talk_mp4: bytes
) -> None:
    api = make_api(upload_max_bytes=8 * 1024 * 1024)
    key = api.key()
    media = _upload(api, key, talk_mp4)
    body = {"video": f"media:{media['id']}", "count": 2, "min": 2, "max": 6,
            "resolution": 240, "model": "tiny.en", "format": "1:1"}  # fmt: skip
    response = api.client.post("/api/clips", json=body, headers=api.headers(key))
    assert response.status_code == 202, response.text
    job = api.wait(response.json()["id"], key, timeout=240)
    assert job["status"] == "completed", job
    assert job["kind"] == "clips"
    files = job["links"]["files"]
    for name in ("clip_1", "clip_1_captions.srt", "clip_1_thumbnail", "manifest", "transcript"):
        assert name in files, files
    manifest = api.client.get(files["manifest"], headers=api.headers(key))
    assert manifest.status_code == 200
    document = json.loads(manifest.content)
    first = document["clips"][0]
    assert first["rank"] == 1 and first["reasons"] and first["title"]
    assert 0 <= first["start"] < first["end"] <= document["duration"] + 0.01
    assert "/" not in json.dumps(document["source"])  # no server path leaks
    video = api.client.get(files["clip_1"], headers=api.headers(key))
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    # The job itself lists the clips (no manifest download needed), as the manifest has them.
    listed = job["summary"]["clips"]
    assert [clip["rank"] for clip in listed] == [c["rank"] for c in document["clips"]]
    for shown, full in zip(listed, document["clips"], strict=True):
        assert shown["score"] == pytest.approx(full["score"], abs=0.05)
        assert shown["reasons"] == full["reasons"] and shown["title"] == full["title"]
        assert shown["start"] == pytest.approx(full["start"], abs=1e-3)
        assert shown["end"] == pytest.approx(full["end"], abs=1e-3)
        k = shown["rank"]
        assert shown["files"]["video"] == files[f"clip_{k}"]
        assert shown["files"]["thumbnail"] == files[f"clip_{k}_thumbnail"]
        assert shown["files"]["captions.srt"] == files[f"clip_{k}_captions.srt"]
        assert set(shown["signed"]) == set(shown["files"])
    thumbnail = api.client.get(listed[0]["signed"]["thumbnail"])  # no key: signed link
    assert thumbnail.status_code == 200 and thumbnail.content[:2] == b"\xff\xd8"
    captions = api.client.get(listed[0]["files"]["captions.srt"], headers=api.headers(key))
    assert captions.status_code == 200 and "-->" in captions.text
    other = api.key("mallory")
    assert_problem(api.client.get(f"/api/jobs/{job['id']}", headers=api.headers(other)), 404)


def test_clips_requests_are_checked_at_submit(make_api: Callable[..., Api]) -> None:
    api = make_api()
    key = api.key()
    unknown = {"video": "media:" + "0" * 32}
    assert_problem(api.client.post("/api/clips", json=unknown, headers=api.headers(key)), 422)
    for bad in (
        {"video": "/etc/passwd"},
        {"video": "media:" + "0" * 32, "count": 11},
        {"video": "media:" + "0" * 32, "min": 30, "max": 10},
        {"video": "media:" + "0" * 32, "resolution": 5000},
        {"video": "media:" + "0" * 32, "model": "/models/evil"},
        {"video": "media:" + "0" * 32, "query": "x" * 201},
    ):
        response = api.client.post("/api/clips", json=bad, headers=api.headers(key))
        assert response.status_code == 422, (bad, response.text)


def test_every_clips_download_name_is_servable() -> None:
    import re

    from reelforge import kinds

    pattern = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)?$")  # GET /api/jobs/{id}/files/{name}
    outputs = kinds.get("clips").outputs
    assert len({o.download for o in outputs.values()}) == len(outputs)
    assert all(pattern.match(o.download) for o in outputs.values())


def test_inconsistent_options_for_an_upload_are_a_422(
    make_api: Callable[..., Api], tmp_path: Path
) -> None:
    import subprocess

    video = tmp_path / "short.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:duration=1",
         "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )  # fmt: skip
    api = make_api()
    key = api.key()
    media = _upload(api, key, video.read_bytes())
    for bad in ({"min": 30, "max": 10}, {"start": 5, "end": 2}):
        body = {"video": f"media:{media['id']}", **bad}
        response = api.client.post("/api/clips", json=body, headers=api.headers(key))
        assert "must" in assert_problem(response, 422)["detail"], bad
