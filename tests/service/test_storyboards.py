# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""POST /api/storyboards/validate: YAML or JSON storyboard text parsed and checked as a video
request would be, with its scenes; errors name the line or the field; aliases, deep nesting,
huge texts and file paths are refused."""

from __future__ import annotations

import io
import json

from conftest_api import Api, api, assert_problem, make_api  # noqa: F401
from PIL import Image

URL = "/api/storyboards/validate"
YAML = """\
title: Fresh bread
template: restaurant
format: 9:16
scenes:
  - title: Morning
    narration: At five o'clock the ovens are already warm.
  - narration: Each loaf is shaped by hand.
    duration: 4
"""


def test_a_yaml_storyboard_is_read_checked_and_its_scenes_listed(api: Api) -> None:
    answer = api.client.post(URL, json={"text": YAML})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["title"] == "Fresh bread"
    assert body["storyboard"]["format"] == "9:16"  # a string, not YAML 1.1's base-60 number
    assert [(s["title"], s["narration"]) for s in body["scenes"]] == [
        ("Morning", "At five o'clock the ovens are already warm."),
        (None, "Each loaf is shaped by hand."),
    ]
    assert body["scenes"][1]["duration"] == 4 and body["duration_s"] > 4
    # What came back is what POST /api/videos takes as the storyboard.
    key = api.key()
    job_id = api.submit(key, {"storyboard": body["storyboard"], "music": "none", "preview": True})
    assert api.wait(job_id, key)["status"] == "completed"
    # The same storyboard as JSON.
    as_json = api.client.post(URL, json={"text": json.dumps(body["storyboard"]), "syntax": "json"})
    assert as_json.status_code == 200 and as_json.json()["scenes"] == body["scenes"]


def test_a_storyboard_may_use_the_callers_uploads(api: Api) -> None:
    key = api.key()
    picture = io.BytesIO()
    Image.new("RGB", (64, 36), "#336699").save(picture, "PNG")
    media = api.client.post(
        "/api/media",
        files={"file": ("bread.png", picture.getvalue(), "image/png")},
        headers=api.headers(key),
    )
    assert media.status_code == 201, media.text
    reference = media.json()["reference"]
    text = f"scenes:\n  - narration: Bread.\n    visual: {{path: '{reference}'}}\n"
    answer = api.client.post(URL, json={"text": text}, headers=api.headers(key))
    assert answer.status_code == 200, answer.text
    assert answer.json()["scenes"][0]["visual"] == reference


def test_bad_storyboards_are_refused_with_where_and_why(api: Api) -> None:
    key = api.headers(api.key())  # anonymous callers have a small rate; a key has its own
    cases = {
        "title: x\nscenes:\n  - narration: [unclosed\n": "invalid YAML at line",
        "scenes:\n  - narration: Hi.\n    duration: 99999\n": "scenes.0.duration",
        "scenes:\n  - narration: Hi.\n    visual: {path: /etc/passwd}\n": "only accepts uploaded",
        "template: nope\nscenes: [Hi.]\n": "template",
        "a: &x [Hi.]\nscenes: *x\n": "anchors and aliases",
        "just a sentence": "mapping of fields",
        "scenes:" + " [" * 40 + "]" * 40: "nested",
    }
    for text, expected in cases.items():
        body = assert_problem(api.client.post(URL, json={"text": text}, headers=key), 422)
        assert expected in body["detail"] + body["hint"], (text, body)
    bad_json = assert_problem(
        api.client.post(URL, json={"text": "{", "syntax": "json"}, headers=key), 422
    )
    assert "invalid JSON at line 1" in bad_json["detail"]
    too_long = api.client.post(URL, json={"text": "#" * 200_001}, headers=key)
    assert_problem(too_long, 422)
    assert_problem(api.client.post(URL, json={"text": YAML, "syntax": "toml"}, headers=key), 422)
