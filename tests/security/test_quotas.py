"""Storage per owner: one tenant filling the store cannot fail another's job; tenants delete
their own uploads (only theirs); uploads and finished jobs expire after the retention."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from conftest_api import Api, assert_problem
from PIL import Image


def _noise_png() -> bytes:
    """A PNG that does not compress (so its size is known) and is unlike any other."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def _upload(api: Api, key: str, data: bytes) -> Any:
    files = {"file": ("noise.png", data, "image/png")}
    return api.client.post("/api/media", files=files, headers=api.headers(key))


@pytest.mark.parametrize(
    "owner_quota", [pytest.param(False, marks=pytest.mark.allow_error_log), True]
)
def test_one_tenant_filling_the_store_does_not_fail_anothers_job(
    make_api: Callable[..., Api], fake_make: Any, owner_quota: bool
) -> None:
    """Without per-owner quotas (the attack) mallory's uploads take the whole store and
    alice's job cannot store its input or results; with them mallory stops at her quota."""
    pictures = [_noise_png() for _ in range(3)]
    sizes = [len(p) for p in pictures]
    api = make_api(
        storage_quota_bytes=sum(sizes) + 100,  # mallory's three uploads fill it
        owner_quota_bytes=sizes[0] + sizes[1] + 100 if owner_quota else None,
    )
    mallory, alice = api.key("mallory"), api.key("alice")
    codes = [_upload(api, mallory, picture).status_code for picture in pictures]
    body = {"script": "Hello there. This is a test.", "music": "none", "preview": True}
    submitted = api.client.post("/api/videos", json=body, headers=api.headers(alice))
    if not owner_quota:
        assert codes == [201, 201, 201]
        if submitted.status_code == 507:  # says so without the server's totals or keys
            assert submitted.json()["detail"] == "the server's storage is full"
        harmed = submitted.status_code == 507 or (
            api.wait(submitted.json()["id"], alice)["status"] == "failed"
        )
        assert harmed  # what the per-owner quota prevents
        return
    assert codes == [201, 201, 507]
    assert submitted.status_code == 202, submitted.text
    job = api.wait(submitted.json()["id"], alice)
    assert job["status"] == "completed", job
    video = api.client.get(job["links"]["files"]["video"], headers=api.headers(alice))
    assert video.status_code == 200


def test_the_quota_refusal_says_what_to_do(make_api: Callable[..., Api], fake_make: Any) -> None:
    picture = _noise_png()
    api = make_api(owner_quota_bytes=len(picture) + 10)
    key = api.key("mallory")
    assert _upload(api, key, picture).status_code == 201
    problem = assert_problem(_upload(api, key, _noise_png()), 507)
    assert "quota" in problem["detail"] and "DELETE /api/media" in problem["hint"]
    assert str(api.settings.data_dir) not in problem["detail"]


def test_an_owner_at_the_quota_cannot_start_jobs(
    make_api: Callable[..., Api], fake_make: Any
) -> None:
    picture = _noise_png()
    api = make_api(owner_quota_bytes=len(picture))
    key = api.key("mallory")
    assert _upload(api, key, picture).status_code == 201
    body = {"script": "Hello there.", "music": "none", "preview": True}
    assert_problem(api.client.post("/api/videos", json=body, headers=api.headers(key)), 507)
    other = api.key("alice")
    assert api.client.post("/api/videos", json=body, headers=api.headers(other)).status_code == 202


def test_delete_media_is_the_owners_only(make_api: Callable[..., Api], fake_make: Any) -> None:
    picture = _noise_png()
    api = make_api(owner_quota_bytes=len(picture) + 10)
    alice, mallory = api.key("alice"), api.key("mallory")
    media = _upload(api, alice, picture).json()
    url = f"/api/media/{media['id']}"
    assert_problem(api.client.delete(url, headers=api.headers(mallory)), 404)
    assert api.client.get(url, headers=api.headers(alice)).status_code == 200
    stored = api.service.get_media(media["id"]).key
    assert api.service.storage.exists(stored)
    assert_problem(_upload(api, alice, _noise_png()), 507)  # alice is at her quota
    deleted = api.client.delete(url, headers=api.headers(alice))
    assert deleted.status_code == 204 and deleted.content == b""
    assert_problem(api.client.get(url, headers=api.headers(alice)), 404)
    assert not api.service.storage.exists(stored)
    assert _upload(api, alice, _noise_png()).status_code == 201  # the room came back
    assert_problem(api.client.delete(url, headers=api.headers(alice)), 404)  # gone for good
    assert_problem(api.client.delete("/api/media/x", headers={}), 401)


def test_uploads_and_finished_jobs_expire(make_api: Callable[..., Api], fake_make: Any) -> None:
    """``reelforge serve`` deletes what is past its retention on its own; an upload a running
    job still needs is kept."""
    from sqlalchemy import update

    from reelforge.service.models import Job, Media, utcnow

    api = make_api(media_retention_s=3600, job_retention_s=3600, retention_interval_s=0.1)
    key = api.key("alice")
    headers = api.headers(key)
    old_upload = _upload(api, key, _noise_png()).json()
    done = api.submit(key)
    assert api.wait(done, key)["status"] == "completed"
    done_files = api.service.get(done).result
    needed = _upload(api, key, _noise_png()).json()
    gate = threading.Event()
    fake_make.before = lambda board: gate.wait(20)
    running = api.submit(
        key,
        {
            "storyboard": {"scenes": [{"narration": "Hi.", "visual": needed["reference"]}]},
            "music": "none",
            "preview": True,
        },
    )
    try:
        long_ago = utcnow() - timedelta(hours=2)
        with api.service.db.transaction() as session:
            session.execute(update(Media).values(created_at=long_ago))
            session.execute(update(Job).where(Job.id == done).values(finished_at=long_ago))
        deadline = time.monotonic() + 10
        while api.client.get(f"/api/media/{old_upload['id']}", headers=headers).status_code != 404:
            assert time.monotonic() < deadline, "the old upload never expired"
            time.sleep(0.05)
        while api.client.get(f"/api/jobs/{done}", headers=headers).status_code != 404:
            assert time.monotonic() < deadline, "the finished job never expired"
            time.sleep(0.05)
        assert not any(api.service.storage.exists(k) for k in done_files.values())
        assert api.client.get(f"/api/media/{needed['id']}", headers=headers).status_code == 200
        assert api.client.get(f"/api/jobs/{running}", headers=headers).status_code == 200
    finally:
        gate.set()
    assert api.wait(running, key)["status"] == "completed"


def test_each_owner_sees_their_own_usage(make_api: Callable[..., Api], fake_make: Any) -> None:
    picture = _noise_png()
    api = make_api(owner_quota_bytes=10**6)
    alice, bob = api.key("alice"), api.key("bob")
    assert _upload(api, alice, picture).status_code == 201
    job = api.wait(api.submit(alice), alice)
    results = sum(
        len(api.client.get(url, headers=api.headers(alice)).content)
        for url in job["links"]["files"].values()
    )
    usage = api.client.get("/api/media/usage", headers=api.headers(alice)).json()
    assert usage == {
        "uploads_bytes": len(picture),
        "results_bytes": results,
        "used_bytes": len(picture) + results,
        "quota_bytes": 10**6,
    }
    other = api.client.get("/api/media/usage", headers=api.headers(bob)).json()
    assert other["used_bytes"] == 0
