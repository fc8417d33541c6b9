# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""POST /api/talking and /api/podcasts: through the job-kinds seam, portraits only as the
caller's own ``media:<id>`` uploads, every field bounded (422), real renders at preview size."""

from __future__ import annotations

import io
from typing import Any

import pytest
from conftest_api import Api, assert_problem, make_api  # noqa: F401
from PIL import Image


def _astronaut_png() -> bytes:
    data = pytest.importorskip("skimage.data")
    out = io.BytesIO()
    Image.fromarray(data.astronaut()).save(out, format="JPEG", quality=85)  # under the limit
    return out.getvalue()


@pytest.fixture
def real_api(make_api: Any) -> Api:  # the real renderer (no fake)
    return make_api()  # type: ignore[no-any-return]


def test_talking_photo_job_runs_end_to_end(real_api: Api) -> None:
    api = real_api
    key = api.key()
    uploaded = api.client.post(
        "/api/media",
        headers=api.headers(key),
        files={"file": ("me.jpg", _astronaut_png(), "image/jpeg")},
    )
    assert uploaded.status_code == 201, uploaded.text
    media = uploaded.json()["reference"]  # media:<id>.<ext>
    response = api.client.post(
        "/api/talking",
        headers=api.headers(key),
        json={"script": "Hello there.", "portrait": media, "preview": True},
    )
    assert response.status_code == 202, response.text
    job = api.wait(response.json()["id"], key, timeout=120)
    assert job["status"] == "completed", job
    files = job["links"]["files"]
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
    ],
)
def test_podcast_requests_are_bounded(real_api: Api, body: dict[str, Any]) -> None:
    key = real_api.key()
    response = real_api.client.post("/api/podcasts", headers=real_api.headers(key), json=body)
    assert_problem(response, 422)


def test_podcast_job_runs(real_api: Api) -> None:
    api = real_api
    key = api.key()
    response = api.client.post(
        "/api/podcasts",
        headers=api.headers(key),
        json={
            "dialogue": "HOST: Welcome.\nGUEST: Thanks.",
            "speakers": [
                {"label": "HOST", "character": "rosa", "name": "Rosa", "role": "Host"},
                {"label": "GUEST", "character": "kenji", "role": "Engineer"},
            ],
            "layout": "pip",
            "preview": True,
        },
    )
    assert response.status_code == 202, response.text
    job = api.wait(response.json()["id"], key, timeout=120)
    assert job["status"] == "completed", job
    assert {"video", "thumbnail", "manifest"} <= set(job["links"]["files"])
