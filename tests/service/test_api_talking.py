# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""POST /api/talking and /api/podcasts: through the job-kinds seam, portraits only as the
caller's own ``media:<id>`` uploads, every field bounded (422), real renders at preview size."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from conftest_api import Api, assert_problem, make_api  # noqa: F401
from numpy.typing import NDArray
from PIL import Image


def _astronaut_png(other_pose: bool = False) -> bytes:
    """The astronaut photo as a JPEG under the upload limit; ``other_pose``: mirrored and
    warmer, as a second picture of the same character would be."""
    data = pytest.importorskip("skimage.data")
    pixels = data.astronaut()
    if other_pose:
        pixels = pixels[:, ::-1].copy()
        pixels[..., 0] = np.clip(pixels[..., 0].astype(int) + 60, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=85)
    return out.getvalue()


def _no_face_png() -> bytes:
    """A picture with no face to find (a gradient): the library's whole-image mode."""
    ramp = np.linspace(0, 255, 320, dtype=np.uint8)
    pixels = np.stack(
        [np.tile(ramp, (240, 1)), np.tile(ramp[::-1], (240, 1)), np.full((240, 320), 96, np.uint8)],
        axis=-1,
    )
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _upload(api: Api, key: str, name: str, data: bytes, content_type: str) -> str:
    response = api.client.post(
        "/api/media", headers=api.headers(key), files={"file": (name, data, content_type)}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


def _manifest(api: Api, key: str, job: dict[str, Any]) -> dict[str, Any]:
    response = api.client.get(job["links"]["files"]["manifest"], headers=api.headers(key))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _completed(api: Api, key: str, route: str, body: dict[str, Any]) -> dict[str, Any]:
    """The job ``body`` makes at ``route``, accepted and run to completion."""
    response = api.client.post(route, headers=api.headers(key), json=body)
    assert response.status_code == 202, response.text
    job: dict[str, Any] = api.wait(response.json()["id"], key, timeout=120)
    assert job["status"] == "completed", job
    return job


@pytest.fixture
def real_api(make_api: Any) -> Api:  # the real renderer (no fake)
    return make_api()  # type: ignore[no-any-return]


def test_talking_photo_job_runs_end_to_end(real_api: Api) -> None:
    api = real_api
    key = api.key()
    media = _upload(api, key, "me.jpg", _astronaut_png(), "image/jpeg")  # media:<id>.<ext>
    body = {"script": "Hello there.", "portrait": media, "preview": True}
    files = _completed(api, key, "/api/talking", body)["links"]["files"]
    assert {"video", "thumbnail", "manifest", "captions.srt"} <= set(files)
    video = api.client.get(files["video"], headers=api.headers(key))
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    # another caller cannot use that upload
    other = api.key("bob")
    refused = api.client.post(
        "/api/talking",
        headers=api.headers(other),
        json={"script": "Hello.", "portrait": media, "preview": True},
    )
    assert refused.status_code in (404, 422), refused.text


@pytest.mark.parametrize(
    "body",
    [
        {"script": "Hi.", "character": "nobody"},
        {"script": "Hi.", "portrait": "/etc/passwd"},
        {"script": "Hi.", "portrait": "https://example.com/a.jpg"},
        {"script": "Hi.", "format": "4:3"},
        {"script": "Hi.", "speed": 9},
        {"script": "x " * 20_000},
        {"script": "   "},
        {"script": "Hi.", "language": "en;rm"},
        {"script": "Hi.", "portrait": []},
        {"script": "Hi.", "portrait": [7]},
        {"script": "Hi.", "portrait": ["media:0123456789abcdef.png"] * 7},
        {"script": "Hi.", "portrait": ["media:0123456789abcdef.png", "/etc/passwd"]},
        {"script": "Hi.", "character": "maya", "portrait": "media:0123456789abcdef.png"},
    ],
)
def test_talking_requests_are_bounded(real_api: Api, body: dict[str, Any]) -> None:
    key = real_api.key()
    response = real_api.client.post("/api/talking", headers=real_api.headers(key), json=body)
    assert_problem(response, 422)


@pytest.mark.parametrize(
    "body",
    [
        {"dialogue": "HOST: hi\nGUEST: hello", "speakers": [{"label": "HOST"}]},
        {"dialogue": "no label here"},
        {"dialogue": "HOST: hi", "layout": "round-table-9"},
        {"dialogue": "HOST: hi", "speakers": [{"label": "HOST", "portrait": "../x.png"}]},
        {"dialogue": "HOST: hi", "speakers": [{"label": "HOST", "character": "nobody"}]},
        {"dialogue": "HOST: hi", "speakers": [{"label": "HOST", "portrait": ["a.png", "../x"]}]},
        {"dialogue": "HOST: hi", "speakers": [{"label": "HOST", "portrait": {"a": 1}}]},
    ],
)
def test_podcast_requests_are_bounded(real_api: Api, body: dict[str, Any]) -> None:
    key = real_api.key()
    response = real_api.client.post("/api/podcasts", headers=real_api.headers(key), json=body)
    assert_problem(response, 422)


def test_podcast_job_runs(real_api: Api) -> None:
    """A host with two pictures (the second with no face: the whole-image mode, said in the
    manifest, as the library does) and a built-in guest."""
    api = real_api
    key = api.key()
    pictures = [
        _upload(api, key, "host.jpg", _astronaut_png(), "image/jpeg"),
        _upload(api, key, "logo.png", _no_face_png(), "image/png"),
    ]
    body = {
        "dialogue": "HOST: Welcome.\nGUEST: Thanks.\nHOST: Bye.",
        "speakers": [
            {"label": "HOST", "portrait": pictures, "name": "Rosa", "role": "Host"},
            {"label": "GUEST", "character": "kenji", "role": "Engineer"},
        ],
        "layout": "pip",
        "preview": True,
    }
    job = _completed(api, key, "/api/podcasts", body)
    assert {"video", "thumbnail", "manifest"} <= set(job["links"]["files"])
    manifest = _manifest(api, key, job)
    assert [s["portraits"] for s in manifest["speakers"]] == [2, 0]
    faceless = [n for n in manifest["notes"] if "whole-image mode" in n]
    assert len(faceless) == 1 and faceless[0].startswith("HOST portrait 2: no face"), faceless


def test_several_portraits_of_one_character_end_to_end(real_api: Api) -> None:
    """Two pictures of one character (poses, outfits) through the service worker: both reach
    the renderer, which takes the paragraphs in turn."""
    api = real_api
    key = api.key()
    poses = [
        _upload(api, key, "pose1.jpg", _astronaut_png(), "image/jpeg"),
        _upload(api, key, "pose2.jpg", _astronaut_png(other_pose=True), "image/jpeg"),
    ]
    body = {"script": "The first scene.\n\nThe second one.", "portrait": poses, "preview": True}
    manifest = _manifest(api, key, _completed(api, key, "/api/talking", body))
    assert manifest["portraits"] == 2 and manifest["notes"] == []


def test_portrait_lists_reach_only_the_callers_images(real_api: Api, tmp_media: Any) -> None:
    """A tenant can never name another tenant's upload, in a list or a podcast speaker's list;
    a sound is not a picture; every problem names its list item."""
    api = real_api
    alice, bob = api.key("alice"), api.key("bob")
    hers = _upload(api, alice, "me.jpg", _astronaut_png(), "image/jpeg")
    his = _upload(api, bob, "me.jpg", _astronaut_png(other_pose=True), "image/jpeg")
    sound = _upload(api, bob, "tone.wav", tmp_media.make_tone().read_bytes(), "audio/wav")
    bodies = [
        ("/api/talking", {"script": "Hi.", "portrait": [his, hers]}, "portrait.1: unknown media"),
        (
            "/api/podcasts",
            {
                "dialogue": "HOST: Hi.\nGUEST: Hello.",
                "speakers": [{"label": "HOST", "portrait": [his, hers]}, {"label": "GUEST"}],
            },
            "speakers.0.portrait.1: unknown media",
        ),
        (
            "/api/talking",
            {"script": "Hi.", "portrait": [his, sound]},
            "is audio, this field takes image",
        ),
    ]
    for path, body, says in bodies:
        problem = assert_problem(api.client.post(path, headers=api.headers(bob), json=body), 422)
        assert says in problem["detail"], problem
        assert "POST /api/media" in problem["hint"]
    listed = api.client.get("/api/jobs", headers=api.headers(bob)).json()
    assert listed["items"] == []  # nothing was queued


def _jpeg(pixels: NDArray[np.uint8]) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=85)
    return out.getvalue()


def test_portraits_the_run_would_refuse_are_refused_at_submission(real_api: Api) -> None:
    """Two faces, a face too small or cut by the edge: a 422 naming the picture when the job
    is submitted, not a failed job minutes later; nothing is queued."""
    data = pytest.importorskip("skimage.data")
    photo = data.astronaut()
    api = real_api
    key = api.key()
    good = _upload(api, key, "me.jpg", _jpeg(photo), "image/jpeg")
    pair = _upload(api, key, "pair.jpg", _jpeg(np.hstack([photo, photo])), "image/jpeg")
    small = Image.fromarray(photo).resize((256, 256), Image.Resampling.LANCZOS)
    tiny = _upload(api, key, "tiny.jpg", _jpeg(np.asarray(small)), "image/jpeg")
    cut = _upload(api, key, "cut.jpg", _jpeg(photo[:170].copy()), "image/jpeg")
    duo = [{"label": "HOST", "portrait": tiny}, {"label": "GUEST", "portrait": [good, cut]}]
    bodies = [
        (
            "/api/talking",
            {"script": "Hi.", "portrait": [good, pair]},
            ["portrait.1: the portrait shows 2 faces"],
        ),
        ("/api/talking", {"script": "Hi.", "portrait": cut}, ["portrait: the face is cut"]),
        (
            "/api/podcasts",
            {"dialogue": "HOST: Hi.\nGUEST: Hello.", "speakers": duo},
            [
                "speakers.0.portrait: the face is too small",
                "speakers.1.portrait.1: the face is cut",
            ],
        ),
    ]
    for path, body, says in bodies:
        problem = assert_problem(api.client.post(path, headers=api.headers(key), json=body), 422)
        for said in says:
            assert said in problem["detail"], problem
        assert problem["hint"], problem
    listed = api.client.get("/api/jobs", headers=api.headers(key)).json()
    assert listed["items"] == []
