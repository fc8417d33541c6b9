"""Unbounded storyboard fields and deep nesting, attacked through the HTTP API.

Before the bounds, ``captions: {size: 20000, outline: 5000}`` was accepted with 202 and made
libass grow by 180 MB/s in the worker; a null byte, a bad encoder preset or colour were
accepted and failed (and were retried) in the worker; storyboards nested 500+ levels (JSON) or
1,000+ (YAML front matter) answered 500 with a huge traceback. Each is now a 422 at submit,
naming the field and what is allowed, before any job exists.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from conftest_api import Api, assert_problem

from reelforge.errors import SpecError
from reelforge.spec.nesting import MAX_NESTING, check_nesting, json_too_deep


def _refused(api: Api, body: dict[str, Any] | bytes, path: str = "/api/videos") -> str:
    """POST ``body``; assert a 422 problem and that no job was created; return its detail."""
    key = api.key()
    headers = {**api.headers(key), "Content-Type": "application/json"}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = api.client.post(path, content=content, headers=headers)
    problem = assert_problem(response, 422)
    listing = api.client.get("/api/jobs", headers=api.headers(key)).json()
    assert listing["total"] == 0, "a refused request must not leave a job behind"
    return str(problem["detail"])


def _board(**fields: Any) -> dict[str, Any]:
    return {"storyboard": {"scenes": ["Hello there."], "music": "none", **fields}}


def test_huge_caption_size_and_outline_are_refused_at_submit(api: Api) -> None:
    detail = _refused(api, _board(captions={"size": 20000, "outline": 5000}))
    assert "captions.size: must be from 8 to 200 (got 20000)" in detail
    assert "captions.outline: must be from 0 to 20 (got 5000)" in detail


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"captions": {"margin": 100000}}, "captions.margin: must be from 0 to 1000"),
        ({"fps": 100000}, "fps: must be from 10 to 60"),
        ({"resolution": 100000}, "resolution: must be from 144 to 2160"),
        ({"speed": 50}, "speed: must be from 0.5 to 2"),
        ({"padding": 1e9}, "padding: must be from 0 to 5"),
        ({"target_duration": 1e9}, "target_duration: must be over 0 and at most 14400"),
        ({"music": {"mood": "calm", "volume_db": 300}}, "music.volume_db: must be from -60 to 6"),
        ({"watermark": {"text": "x", "width": 50}}, "watermark.width: must be from 0.01 to 1"),
        ({"seed": 10**40}, "seed: must be from 0 to 4294967295"),
        (
            {"scenes": [{"narration": "Hi.", "duration": 1e9}]},
            "scenes.0.duration: must be over 0 and at most 600",
        ),
        (
            {"scenes": [{"narration": "Hi.", "visual": {"motion": {"zoom": [1, 500]}}}]},
            "scenes.0.visual.motion.zoom.1",
        ),
        ({"scenes": ["Hi."] * 1001}, "scenes: is too long: at most 1000 items"),
        ({"title": "x" * 301}, "title: is too long: at most 300 characters"),
        ({"voice": "v" * 65}, "voice: is too long: at most 64 characters"),
        ({"scenes": [{"narration": "word " * 2001}]}, "at most 10000 characters"),
    ],
)
def test_out_of_range_fields_are_refused_with_their_range(
    api: Api, fields: dict[str, Any], expected: str
) -> None:
    assert expected in _refused(api, _board(**fields))


def test_null_byte_is_refused_at_submit(api: Api) -> None:
    detail = _refused(api, _board(title="Hello\x00world"))
    assert "title: contains the control character U+0000" in detail
    detail = _refused(api, {"script": "Hello\x00 there.", "music": "none"})
    assert "U+0000" in detail


def test_control_characters_and_line_breaks_in_names_are_refused(api: Api) -> None:
    assert "U+001B" in _refused(api, _board(scenes=[{"narration": "Hi \x1b[31m there."}]))
    assert "must be on one line" in _refused(api, _board(voice="en-adult\nmale"))


def test_bad_encoder_preset_is_refused_at_submit(api: Api) -> None:
    detail = _refused(api, _board(encoder={"preset": "placebo"}))
    assert "encoder.preset" in detail and "'veryslow'" in detail
    assert "encoder.audio_bitrate" in _refused(api, _board(encoder={"audio_bitrate": "9999k"}))


def test_bad_colour_is_refused_at_submit(api: Api) -> None:
    detail = _refused(api, _board(captions={"color": "red;&H00"}))
    assert "captions.color: must be a colour written '#rrggbb' or '#rrggbbaa'" in detail
    assert "captions.highlight_color" in _refused(api, _board(captions={"highlight_color": "#12"}))


def test_valid_bounded_values_are_accepted(api: Api) -> None:
    key = api.key()
    body = _board(
        captions={"size": 200, "outline": 20, "margin": 1000, "color": "#ffd400cc"},
        encoder={"preset": "medium", "audio_bitrate": "192k"},
        title="Two\nlines",
    )
    response = api.client.post("/api/videos", json=body, headers=api.headers(key))
    assert response.status_code == 202, response.text


def test_the_price_estimate_validates_through_the_spec(api: Api) -> None:
    detail = _refused(api, _board(captions={"size": 20000}), path="/api/pricing")
    assert "captions.size" in detail


def _deep_json(depth: int) -> bytes:
    return b'{"storyboard": {"scenes": ["Hi."], "x": ' + b"[" * depth + b"]" * depth + b"}}"


@pytest.mark.parametrize("depth", [40, 600, 5000, 200_000])
def test_deep_json_request_body_is_refused_fast(api: Api, depth: int) -> None:
    started = time.perf_counter()
    detail = _refused(api, _deep_json(depth))
    assert time.perf_counter() - started < 2.0
    assert f"nested more than {MAX_NESTING} levels deep" in detail


def test_deep_yaml_front_matter_is_refused_fast(api: Api) -> None:
    flow = "---\ntitle: " + "[" * 1100 + "]" * 1100 + "\n---\nHello there.\n"
    block = "---\ntitle:\n" + "".join(" " * i + f"k{i}:\n" for i in range(40)) + "---\nHi.\n"
    for script in (flow, block):
        started = time.perf_counter()
        detail = _refused(api, {"script": script, "music": "none"})
        assert time.perf_counter() - started < 2.0
        assert "front matter" in detail


def test_deep_values_reaching_the_library_are_refused_without_recursion() -> None:
    deep: Any = "leaf"
    for _ in range(100_000):  # far past Python's recursion limit
        deep = [deep]
    with pytest.raises(SpecError, match="nested more than 32"):
        check_nesting({"scenes": deep}, "the storyboard")
    check_nesting({"scenes": [{"visual": {"motion": {"zoom": [1.0, 1.1]}}}]}, "ok")
    # A list shared a million times over (a YAML "billion laughs") is walked once.
    shared: Any = ["x"] * 10
    for _ in range(6):
        shared = [shared] * 10
    check_nesting({"scenes": shared}, "shared")


def test_brackets_inside_json_strings_do_not_count() -> None:
    text = json.dumps({"scenes": ["[" * 5000 + "{" * 5000, 'quote \\" [[[']})
    assert not json_too_deep(text)
    assert json_too_deep("[" * 33 + "]" * 33)
    assert not json_too_deep("[" * 32 + "]" * 32)


def test_deep_timeline_and_caption_json_files_are_refused(tmp_path: Any) -> None:
    from reelforge.captions.formats import read_captions
    from reelforge.timeline import Timeline

    with pytest.raises(SpecError, match="nested more than 32"):
        Timeline.from_json("[" * 100_000 + "]" * 100_000)
    captions = tmp_path / "words.json"
    captions.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(SpecError, match="nested more than 32"):
        read_captions(captions)
