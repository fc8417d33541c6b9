# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""Downloads: every result by name, HTTP range requests (206, 416, If-Range), HEAD, redirects."""

from __future__ import annotations

from typing import Any

import pytest
from conftest_api import Api, api, assert_problem, make_api  # noqa: F401

from reelforge.service.api.files import parse_range
from reelforge.service.api.problems import RangeNotSatisfiable


@pytest.fixture
def done(api: Api) -> tuple[Api, str, str, bytes]:
    key = api.key()
    job_id = api.submit(key)
    assert api.wait(job_id, key)["status"] == "completed"
    video = api.service.storage.local_path(f"jobs/{job_id}/video.mp4").read_bytes()
    return api, key, job_id, video


def test_every_result_downloads_with_its_type(done: tuple[Api, str, str, bytes]) -> None:
    api, key, job_id, video = done
    expected = {
        "video": "video/mp4",
        "thumbnail": "image/jpeg",
        "manifest": "application/json",
        "captions.srt": "application/x-subrip",
        "captions.vtt": "text/vtt",
        "captions.ass": "text/x-ssa",
        "captions.json": "application/json",
    }
    for name, media_type in expected.items():
        response = api.client.get(f"/api/jobs/{job_id}/files/{name}", headers=api.headers(key))
        assert response.status_code == 200, (name, response.text)
        assert response.headers["content-type"].startswith(media_type)
        assert response.headers["accept-ranges"] == "bytes"
        assert int(response.headers["content-length"]) == len(response.content) > 0
    full = api.client.get(f"/api/jobs/{job_id}/files/video", headers=api.headers(key))
    assert full.content == video
    srt = api.client.get(f"/api/jobs/{job_id}/files/captions.srt", headers=api.headers(key))
    assert srt.text.startswith("srt of Hello there.")


def test_range_requests_let_a_player_seek(done: tuple[Api, str, str, bytes]) -> None:
    api, key, job_id, video = done
    url = f"/api/jobs/{job_id}/files/video"
    size = len(video)
    cases = {
        "bytes=0-9": (0, 9),
        "bytes=10-": (10, size - 1),
        "bytes=-5": (size - 5, size - 1),
        f"bytes=4-{size + 100}": (4, size - 1),  # an end past the file is clamped
    }
    for header, (first, last) in cases.items():
        response = api.client.get(url, headers={**api.headers(key), "Range": header})
        assert response.status_code == 206, header
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert response.content == video[first : last + 1]
        assert int(response.headers["content-length"]) == last - first + 1
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        response = api.client.get(url, headers={**api.headers(key), "Range": header})
        body = assert_problem(response, 416)
        assert response.headers["content-range"] == f"bytes */{size}"
        assert str(size) in body["detail"]
    # Malformed or multi-range headers may be ignored: the whole file, 200.
    for header in ("bytes=5-2", "items=0-3", "bytes=0-1,4-5", "bytes=abc"):
        response = api.client.get(url, headers={**api.headers(key), "Range": header})
        assert response.status_code == 200, header
        assert response.content == video


def test_if_range_and_head(done: tuple[Api, str, str, bytes]) -> None:
    api, key, job_id, video = done
    url = f"/api/jobs/{job_id}/files/video"
    head = api.client.head(url, headers=api.headers(key))
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(video)
    etag = head.headers["etag"]
    same = api.client.get(url, headers={**api.headers(key), "Range": "bytes=0-3", "If-Range": etag})
    assert same.status_code == 206 and same.content == video[:4]
    stale = api.client.get(
        url, headers={**api.headers(key), "Range": "bytes=0-3", "If-Range": '"something-else"'}
    )
    assert stale.status_code == 200 and stale.content == video


def test_names_outside_the_fixed_set_never_reach_storage(
    done: tuple[Api, str, str, bytes],
) -> None:
    api, key, job_id, _ = done
    h = api.headers(key)
    for name in (
        "input.json",
        "..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "video.mp4",
        "captions.txt",
        "%2E%2E",
        "manifest%00",
    ):
        response = api.client.get(f"/api/jobs/{job_id}/files/{name}", headers=h)
        assert response.status_code in (404, 422), (name, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")
    for job in ("..", "..%2F..", "x%2F..%2F..%2Fmedia"):
        response = api.client.get(f"/api/jobs/{job}/files/video", headers=h)
        assert response.status_code in (404, 422), (job, response.status_code)


def test_store_with_direct_urls_gets_a_redirect(
    done: tuple[Api, str, str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api, key, job_id, _ = done
    seen: list[Any] = []

    def presigned(stored_key: str, expires: int = 3600) -> str:
        seen.append((stored_key, expires))
        return f"https://bucket.example/{stored_key}?signature=abc"

    monkeypatch.setattr(api.service.storage, "url", presigned)
    response = api.client.get(
        f"/api/jobs/{job_id}/files/thumbnail", headers=api.headers(key), follow_redirects=False
    )
    assert response.status_code == 307
    assert response.headers["location"] == (
        f"https://bucket.example/jobs/{job_id}/video.jpg?signature=abc"
    )
    assert seen == [(f"jobs/{job_id}/video.jpg", api.settings.download_url_expires_s)]


def test_parse_range_unit() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == (2, 4)
    assert parse_range("bytes = 2 - ", 10) == (2, 9)
    assert parse_range("bytes=-3", 10) == (7, 9)
    assert parse_range("bytes=-30", 10) == (0, 9)
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=10-", 10)
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=-1", 0)
