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


class _SlowMusic:
    """A stand-in for ``sample_music`` that holds each build until ``gate`` opens, counting
    builds and how many ran at once."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.built: list[str] = []
        self.running = self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, mood: str, output: Path) -> Path:
        with self._lock:
            self.built.append(mood)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if not self.gate.wait(5):
                self.gate.set()  # give up: a server that regressed fails the test, not hangs
                raise AssertionError("the gate never opened")
            Path(output).write_bytes(f"music {mood}".encode())
        finally:
            with self._lock:
                self.running -= 1
        return Path(output)


def _slowed(
    make_api: Any, monkeypatch: pytest.MonkeyPatch, **settings: int
) -> tuple[Api, _SlowMusic]:
    """An API (these ``settings``) whose music samples a :class:`_SlowMusic` makes."""
    api: Api = make_api(**settings)
    slow = _SlowMusic()
    monkeypatch.setattr(samples, "sample_music", slow)
    return api, slow


def _refused(answer: Any) -> None:
    """A 429 that says when to come back."""
    assert_problem(answer, 429)
    assert answer.headers["retry-after"] == "5"


def _moods(api: Api, count: int) -> list[str]:
    moods = [m["name"] for m in api.client.get("/api/music-moods").json()]
    assert len(moods) >= count
    return moods[:count]


def _wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_samples_past_the_queue_are_refused_and_made_ones_still_served(
    make_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, slow = _slowed(
        make_api, monkeypatch, sample_builds=1, sample_queue=1, sample_builds_per_client=10
    )
    made, *others = _moods(api, 5)
    slow.gate.set()
    assert api.client.get(f"/api/music-moods/{made}/sample").content == f"music {made}".encode()
    slow.gate.clear()
    with ThreadPoolExecutor(4) as pool:
        answers = [pool.submit(api.client.get, f"/api/music-moods/{m}/sample") for m in others]
        _wait_for(lambda: sum(a.done() for a in answers) == 2)  # one building, one waiting
        refused = [a.result() for a in answers if a.done()]
        for answer in refused:
            _refused(answer)
        # the made sample is served at once, the queue full or not
        begun = time.monotonic()
        assert api.client.get(f"/api/music-moods/{made}/sample").status_code == 200
        assert time.monotonic() - begun < 1.0
        slow.gate.set()
        statuses = sorted(a.result().status_code for a in answers)
    assert statuses == [200, 200, 429, 429]
    assert len(slow.built) == 3 and slow.most_at_once == 1
    names = [p.name for p in (api.settings.cache_dir / "samples").iterdir()]  # type: ignore[operator]
    assert len(names) == 3 and not [n for n in names if n.startswith(".")]  # no partial files


def test_one_client_may_have_only_a_few_samples_in_the_making(
    make_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, slow = _slowed(
        make_api, monkeypatch, sample_builds=2, sample_queue=4, sample_builds_per_client=1
    )
    first, second = _moods(api, 2)
    with ThreadPoolExecutor(3) as pool:
        pending = [pool.submit(api.client.get, f"/api/music-moods/{first}/sample") for _ in "ab"]
        _wait_for(lambda: slow.built == [first])
        answer = api.client.get(f"/api/music-moods/{second}/sample")
        _refused(answer)
        slow.gate.set()
        assert [p.result().status_code for p in pending] == [200, 200]  # the same build, shared
    assert slow.built == [first]
    assert api.client.get(f"/api/music-moods/{second}/sample").status_code == 200


def test_many_requests_for_one_sample_hold_no_server_threads(
    make_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 60 waiting requests once held 60 of the server's 40 worker threads: nothing else that
    # needs one (the catalogue) was answered until the sample was made.
    api, slow = _slowed(make_api, monkeypatch)
    (mood,) = _moods(api, 1)
    with ThreadPoolExecutor(60) as pool:
        url = f"/api/music-moods/{mood}/sample"
        pending = [pool.submit(api.client.get, url) for _ in range(60)]
        _wait_for(lambda: slow.built == [mood])
        time.sleep(0.3)  # the rest arrive and wait
        begun = time.monotonic()
        assert api.client.get("/api/voices").status_code == 200
        assert time.monotonic() - begun < 2.0
        slow.gate.set()
        assert {p.result().status_code for p in pending} == {200}
    assert slow.built == [mood]


def test_the_studio_gets_every_template_still_at_once_on_a_fresh_server(
    make_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the template gallery asks for all of them together: the default bounds let one client
    # have them all in the making
    api: Api = make_api()
    made: list[str] = []

    def still(name: str, output: Path) -> Path:
        made.append(name)
        time.sleep(0.05)
        Path(output).write_bytes(name.encode())
        return Path(output)

    monkeypatch.setattr(samples, "sample_template", still)
    names = [t["name"] for t in api.client.get("/api/templates").json()]
    with ThreadPoolExecutor(len(names)) as pool:
        answers = list(pool.map(lambda n: api.client.get(f"/api/templates/{n}/thumbnail"), names))
    assert [a.status_code for a in answers] == [200] * len(names)
    assert sorted(made) == sorted(names)
