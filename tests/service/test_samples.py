# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""Samples of the catalogue through the API: a voice's sentence, a mood's first seconds and a
template's still, made once by the real engines, cached, with ETags; only catalogue names."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest_api import Api, assert_problem, make_api  # noqa: F401

from reelforge import samples
from reelforge.media.probe import probe

VOICE = "de-adult-female"  # espeak-ng: a fraction of a second to speak


def _catalogue_has(api: Api, voice: str) -> None:
    ids = {v["id"] for v in api.client.get("/api/voices").json()}
    if voice not in ids:
        pytest.skip(f"voice {voice} not on this machine (espeak-ng missing)")


def test_a_voice_sample_is_spoken_once_cached_and_revalidated(
    make_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api: Api = make_api()  # keys required elsewhere; samples are public like the catalogue
    _catalogue_has(api, VOICE)
    calls: list[str] = []
    real = samples.sample_voice

    def counted(voice: str, output: Path) -> Path:
        calls.append(voice)
        time.sleep(0.5)  # long enough for the second request to arrive meanwhile
        return real(voice, output)

    monkeypatch.setattr(samples, "sample_voice", counted)
    url = f"/api/voices/{VOICE}/sample"
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: api.client.get(url), range(2)))
    assert [a.status_code for a in answers] == [200, 200], answers[0].text
    assert calls == [VOICE]  # the second request waited for the first one's file
    first = answers[0]
    assert first.headers["content-type"] == "audio/mp4"
    assert first.headers["cache-control"].startswith("public")
    assert first.content == answers[1].content
    saved = tmp_path / "sample.m4a"
    saved.write_bytes(first.content)
    info = probe(saved)
    assert info.has_audio and info.audio_codec == "aac" and 1500 < info.duration_ms < 8000, info
    assert len(first.content) < 80_000

    etag = first.headers["etag"]
    again = api.client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    assert api.client.get(url).content == first.content and calls == [VOICE]
    cached = list((api.settings.cache_dir / "samples").iterdir())  # type: ignore[operator]
    assert [p.name for p in cached] == [f"voice-{VOICE}-{etag.strip(chr(34))}.m4a"]

    assert_problem(api.client.get("/api/voices/xx-adult-male/sample"), 404)
    assert_problem(api.client.get("/api/voices/..%2Fetc/sample"), 404)
    assert_problem(api.client.get(f"/api/voices/{'a' * 65}/sample"), 422)


def test_the_event_loop_serves_others_while_a_sample_is_made(
    make_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api: Api = make_api()
    _catalogue_has(api, VOICE)
    started = threading.Event()
    real = samples.sample_voice

    def slow(voice: str, output: Path) -> Path:
        started.set()
        time.sleep(1.5)
        return real(voice, output)

    monkeypatch.setattr(samples, "sample_voice", slow)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(api.client.get, f"/api/voices/{VOICE}/sample")
        assert started.wait(10)
        begun = time.monotonic()
        assert api.client.get("/api/music-moods").status_code == 200
        assert time.monotonic() - begun < 1.0
        assert pending.result().status_code == 200


def test_a_mood_sample_is_eight_seconds_of_music(make_api: Any, tmp_path: Path) -> None:
    api: Api = make_api()
    answer = api.client.get("/api/music-moods/calm/sample")
    assert answer.status_code == 200, answer.text
    saved = tmp_path / "calm.m4a"
    saved.write_bytes(answer.content)
    info = probe(saved)
    assert info.has_audio and abs(info.duration_ms - samples.MUSIC_SAMPLE_MS) < 300
    from reelforge.media.probe import audio_levels

    assert audio_levels(saved) > -35  # dB: music, not silence
    assert_problem(api.client.get("/api/music-moods/polka/sample"), 404)


def test_template_thumbnails_show_each_template(make_api: Any) -> None:
    import cv2
    import numpy as np

    api: Api = make_api()
    stills = {}
    for name in ("news", "childrens-story"):
        answer = api.client.get(f"/api/templates/{name}/thumbnail")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(answer.content, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (180, 320, 3)
        assert float(image.std()) > 10  # a picture, not a flat colour
        stills[name] = image.reshape(-1, 3).mean(axis=0)
        etag = answer.headers["etag"]
        again = api.client.get(f"/api/templates/{name}/thumbnail", headers={"If-None-Match": etag})
        assert again.status_code == 304
    # Two templates, two palettes: their mean colours differ clearly.
    assert float(np.abs(stills["news"] - stills["childrens-story"]).sum()) > 30
    assert_problem(api.client.get("/api/templates/nope/thumbnail"), 404)
