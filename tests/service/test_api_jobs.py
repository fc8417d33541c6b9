# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""Videos and jobs over HTTP: submit, status, list, events (SSE), retry, delete."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest_api import Api, api, assert_problem, make_api, open_api  # noqa: F401


def test_submit_runs_to_completed_with_links(api: Api) -> None:
    key = api.key()
    response = api.client.post(
        "/api/videos",
        headers=api.headers(key),
        json={
            "script": "Hello there. This is a test.",
            "music": "none",
            "preview": True,
            "priority": "high",
            "format": "9:16",
        },
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["links"]["self"] == f"/api/jobs/{body['id']}"
    assert response.headers["location"] == f"/api/jobs/{body['id']}"
    job = api.wait(body["id"], key)
    assert job["status"] == "completed", job
    assert job["progress"] == 100.0
    assert job["priority"] == "high"
    assert set(job["links"]["files"]) == {
        "video",
        "thumbnail",
        "manifest",
        "captions.srt",
        "captions.vtt",
        "captions.ass",
        "captions.json",
    }


def test_list_filters_and_pages(api: Api) -> None:
    key = api.key()
    ids = [api.submit(key) for _ in range(3)]
    for job_id in ids:
        api.wait(job_id, key)
    page = api.client.get("/api/jobs?limit=2&offset=0", headers=api.headers(key)).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    rest = api.client.get("/api/jobs?limit=2&offset=2", headers=api.headers(key)).json()
    assert {j["id"] for j in page["items"] + rest["items"]} == set(ids)
    done = api.client.get("/api/jobs?status=completed&kind=video", headers=api.headers(key))
    assert done.json()["total"] == 3
    failed = api.client.get("/api/jobs?status=failed", headers=api.headers(key))
    assert failed.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    bad = api.client.get("/api/jobs?status=exploded&limit=0", headers=api.headers(key))
    body = assert_problem(bad, 422)
    assert {e["field"] for e in body["errors"]} == {"status", "limit"}


def test_sse_stream_reaches_completed(api: Api) -> None:
    key = api.key()
    job_id = api.submit(key)
    with api.client.stream(
        "GET", f"/api/jobs/{job_id}/events", headers=api.headers(key)
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = _parse_sse(text)
    names = [name for name, _ in events]
    assert names[-1] == "end"
    assert "progress" in names
    end = events[-1][1]
    assert end["status"] == "completed" and end["progress"] == 100.0
    statuses = [data["status"] for name, data in events if name == "progress"]
    assert statuses[0] in ("submitted", "queued") and "completed" in statuses
    percents = [d["progress"] for n, d in events if n == "progress" and d["progress"] is not None]
    assert all(0.0 <= p <= 100.0 for p in percents) and percents[-1] == 100.0
    # Resuming after the last id sends only the end.
    last = max(int(line.split(":", 1)[1]) for line in text.splitlines() if line.startswith("id:"))
    again = api.client.get(
        f"/api/jobs/{job_id}/events", headers={**api.headers(key), "Last-Event-ID": str(last)}
    )
    assert [n for n, _ in _parse_sse(again.text)] == ["end"]


def _parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.split("\n\n"):
        name, data = None, None
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data = json.loads(line.split(":", 1)[1])
        if name and data is not None:
            events.append((name, data))
    return events


def test_failed_job_has_error_and_hint_then_retry_completes(api: Api, fake_make: Any) -> None:
    from reelforge.errors import RenderError

    key = api.key()
    broken = {"on": True}

    def fail_once(storyboard: Any) -> None:
        if broken["on"]:
            raise RenderError("ffmpeg ran out of patience", hint="give it more time")

    fake_make.before = fail_once
    job_id = api.submit(key)
    job = api.wait(job_id, key)
    assert job["status"] == "failed"
    assert "patience" in job["error"] and job["hint"] == "give it more time"
    assert job["links"]["files"] == {}
    # A failed job has no results to download: a conflict, explained.
    assert_problem(api.client.get(f"/api/jobs/{job_id}/files/video", headers=api.headers(key)), 409)
    broken["on"] = False
    retried = api.client.post(f"/api/jobs/{job_id}/retry", headers=api.headers(key))
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "queued"
    assert api.wait(job_id, key)["status"] == "completed"
    # Retrying a completed job is a conflict.
    assert_problem(api.client.post(f"/api/jobs/{job_id}/retry", headers=api.headers(key)), 409)


def test_delete_removes_job_and_files(api: Api) -> None:
    key = api.key()
    job_id = api.submit(key)
    api.wait(job_id, key)
    folder = api.service.storage.local_path(f"jobs/{job_id}/video.mp4").parent
    assert folder.is_dir()
    response = api.client.delete(f"/api/jobs/{job_id}", headers=api.headers(key))
    assert response.status_code == 204
    assert not folder.exists()
    assert_problem(api.client.get(f"/api/jobs/{job_id}", headers=api.headers(key)), 404)
    assert_problem(api.client.delete(f"/api/jobs/{job_id}", headers=api.headers(key)), 404)


def test_delete_cancels_a_waiting_job(make_api: Any, fake_make: Any) -> None:
    api = make_api(workers=0)  # nobody runs jobs: it stays queued
    key = api.key()
    job_id = api.submit(key)
    assert api.client.get(f"/api/jobs/{job_id}", headers=api.headers(key)).json()["status"] == (
        "queued"
    )
    assert api.client.delete(f"/api/jobs/{job_id}", headers=api.headers(key)).status_code == 204
    assert_problem(api.client.get(f"/api/jobs/{job_id}", headers=api.headers(key)), 404)


def test_bad_requests_are_problems_naming_fields(api: Api) -> None:
    key = api.key()
    h = api.headers(key)
    both = api.client.post("/api/videos", headers=h, json={"script": "Hi.", "storyboard": {}})
    assert "exactly one" in assert_problem(both, 422)["detail"]
    fields = api.client.post(
        "/api/videos",
        headers=h,
        json={"script": "Hi.", "format": "4:3", "priority": "urgent", "duration": -1, "colour": 1},
    )
    named = {e["field"] for e in assert_problem(fields, 422)["errors"]}
    assert named == {"format", "priority", "duration", "colour"}
    template = api.client.post(
        "/api/videos", headers=h, json={"script": "Hi.", "template": "no-such-template"}
    )
    assert "template" in assert_problem(template, 422)["detail"]
    not_json = api.client.post(
        "/api/videos", headers={**h, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert_problem(not_json, 422)
    empty_board = api.client.post("/api/videos", headers=h, json={"storyboard": {"scenes": []}})
    assert_problem(empty_board, 422)
    assert_problem(api.client.get("/api/nothing-here"), 404)
    assert_problem(api.client.put("/api/videos", headers=h, json={}), 405)
    assert_problem(api.client.get("/api/jobs/not%20an%20id", headers=h), 422)
    assert_problem(api.client.get("/api/jobs/0123456789abcdef", headers=h), 404)


def test_open_mode_needs_no_key(open_api: Api) -> None:
    job_id = open_api.submit(None)
    assert open_api.wait(job_id, None)["status"] == "completed"
    listed = open_api.client.get("/api/jobs").json()
    assert [j["id"] for j in listed["items"]] == [job_id]


def test_request_fields_reach_the_service() -> None:
    from reelforge.service.api.schemas import VideoRequest

    request = VideoRequest.model_validate(
        {
            "script": "Hi.",
            "template": "restaurant",
            "language": "fr",
            "voice": "fr-adult-female",
            "format": "1:1",
            "duration": 12.5,
            "music": "calm",
            "captions": "none",
            "preview": True,
            "priority": "low",
            "queue": "gpu",
            "title": "T",
            "resolution": 720,
        }
    )
    assert request.to_service() == {
        "script": "Hi.",
        "template": "restaurant",
        "language": "fr",
        "voice": "fr-adult-female",
        "format": "1:1",
        "target_duration": 12.5,
        "music": "calm",
        "captions": False,
        "preview": True,
        "queue": "gpu",
        "title": "T",
        "resolution": 720,
    }
    styled = VideoRequest.model_validate({"storyboard": {"scenes": ["Hi."]}, "captions": "bold"})
    assert styled.to_service() == {
        "storyboard": {"scenes": ["Hi."]},
        "captions": "bold",
        "preview": False,
    }


def test_overrides_change_the_rendered_storyboard(api: Api, fake_make: Any) -> None:
    seen: list[Any] = []
    fake_make.before = seen.append
    key = api.key()
    job_id = api.submit(
        key,
        {
            "script": "Bonjour à tous. Ceci est un essai.",
            "format": "9:16",
            "captions": "none",
            "music": "calm",
            "language": "fr",
            "preview": True,
        },
    )
    assert api.wait(job_id, key)["status"] == "completed"
    board = seen[0]
    assert board.format == "9:16" and board.language == "fr"
    assert board.captions.enabled is False and board.music.mood == "calm"


def test_oversize_json_body_is_413(make_api: Any, fake_make: Any) -> None:
    api = make_api(max_body_bytes=4096)
    key = api.key()
    big = {"script": "Hello there. " * 1000}
    body = assert_problem(api.client.post("/api/videos", headers=api.headers(key), json=big), 413)
    assert "4096" in body["detail"]

    def chunks() -> Any:
        yield b'{"script": "'
        for _ in range(10):
            yield b"Hello there. " * 100
        yield b'"}'

    streamed = api.client.post(
        "/api/videos",
        content=chunks(),
        headers={**api.headers(key), "Content-Type": "application/json"},
    )
    assert_problem(streamed, 413)
    assert api.client.get("/api/jobs", headers=api.headers(key)).json()["total"] == 0


@pytest.mark.allow_error_log
def test_an_unexpected_failure_is_a_500_problem_without_internals(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key = api.key()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal state /srv/data")

    monkeypatch.setattr(api.service, "get", broken)
    response = api.client.get("/api/jobs/0123456789abcdef", headers=api.headers(key))
    body = assert_problem(response, 500)
    assert "secret" not in response.text and "Traceback" not in response.text
    assert body["hint"]
    assert any("unhandled error" in r.getMessage() for r in caplog.records)
