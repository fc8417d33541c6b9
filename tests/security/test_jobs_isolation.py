"""Jobs stay within their owner and their size: attacks on pricing, the whole-job cache and the
work folders, each performed through the HTTP API.

- A long script with a tiny ``target_duration`` was priced and admitted as the target.
- The whole-job cache served another tenant's output and named their job (``cached_from``).
- A job's media were read in place from the shared store, and the work folder of a crashed
  attempt survived the retry and the job's deletion.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from conftest_api import Api, assert_problem

from reelforge.kinds.video import WORDS_PER_SECOND

LONG_SCRIPT = " ".join(["word"] * 9000)  # about an hour of narration


def _jobs(api: Api) -> int:
    from sqlalchemy import func, select

    from reelforge.service.models import Job

    with api.service.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)


def test_a_short_target_does_not_admit_a_long_script(api: Api) -> None:
    key = api.key()
    body = {"script": LONG_SCRIPT, "duration": 5, "music": "none"}
    priced = api.client.post("/api/pricing", json=body)
    assert "this server renders at most" in assert_problem(priced, 422)["detail"]
    refused = api.client.post("/api/videos", json=body, headers=api.headers(key))
    assert "this server renders at most" in assert_problem(refused, 422)["detail"]
    assert _jobs(api) == 0


def test_a_short_target_does_not_lower_the_price(api: Api) -> None:
    words = 1000
    script = " ".join(["word"] * words)
    targeted = api.client.post("/api/pricing", json={"script": script, "duration": 5}).json()
    plain = api.client.post("/api/pricing", json={"script": script}).json()
    assert targeted["duration_s"] >= words / WORDS_PER_SECOND
    assert targeted["cost"] == plain["cost"] and targeted["duration_s"] == plain["duration_s"]
    longer = api.client.post("/api/pricing", json={"script": "Hello.", "duration": 90}).json()
    assert longer["duration_s"] == 90  # a target longer than the narration still counts


def _submit_and_wait(api: Api, key: str, body: dict[str, Any]) -> dict[str, Any]:
    return api.wait(api.submit(key, body), key)


def test_the_cache_never_serves_or_names_another_tenants_job(api: Api, fake_make: Any) -> None:
    alice, bob = api.key("alice"), api.key("bob")
    body = {"script": "The same words from two tenants.", "music": "none", "preview": True}
    first = _submit_and_wait(api, alice, body)
    assert first["status"] == "completed" and len(fake_make.calls) == 1
    theirs = _submit_and_wait(api, bob, body)
    assert theirs["status"] == "completed" and theirs["cached_from"] is None
    assert len(fake_make.calls) == 2  # bob's video was made for bob, not copied from alice's
    seen = api.client.get(f"/api/jobs/{theirs['id']}", headers=api.headers(bob)).text
    assert first["id"] not in seen
    events = api.client.get(f"/api/jobs/{theirs['id']}/events", headers=api.headers(bob)).text
    assert first["id"] not in events
    again = _submit_and_wait(api, alice, body)  # the owner's own cache still works
    assert again["cached_from"] == first["id"] and len(fake_make.calls) == 2


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 18), (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def test_a_job_is_handed_copies_of_its_own_inputs_only(api: Api, fake_make: Any) -> None:
    key = api.key()
    data = _png()
    uploaded = api.client.post(
        "/api/media", headers=api.headers(key), files={"file": ("a.png", data, "image/png")}
    )
    assert uploaded.status_code == 201, uploaded.text
    media = uploaded.json()
    seen: dict[str, Any] = {}

    def look(board: Any) -> None:
        path = Path(board.scenes[0].visual.path)
        seen.setdefault("path", path)
        seen.setdefault("bytes", path.read_bytes())
        seen.setdefault("writable", bool(path.stat().st_mode & 0o222))  # root ignores modes

    fake_make.before = look
    body = {"storyboard": {"scenes": [{"narration": "Look.", "visual": media["reference"]}]}}
    job = _submit_and_wait(api, key, {**body, "music": "none", "preview": True})
    assert job["status"] == "completed", job
    work = Path(api.settings.work_dir) / job["id"]
    storage = Path(api.settings.data_dir) / "storage"
    assert seen["path"].is_relative_to(work) and not seen["path"].is_relative_to(storage)
    assert seen["bytes"] == data and seen["writable"] is False
    deadline = time.monotonic() + 5  # removed by the worker right after it completes the job
    while work.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not work.exists()


def test_a_crashed_attempts_work_folder_goes_on_retry_and_on_delete(
    make_api: Any, fake_make: Any
) -> None:
    from reelforge.service.worker import run_job

    api: Api = make_api(workers=0)  # this test plays the worker
    key = api.key()
    job_id = api.submit(key)
    leftover = Path(api.settings.work_dir) / job_id / "attempt-0"  # a worker died in it
    leftover.mkdir(parents=True)
    (leftover / "narration.wav").write_bytes(b"what the crashed attempt had made")
    during: list[bool] = []
    fake_make.before = lambda board: during.append(leftover.exists())
    service = api.service
    assert run_job(job_id, service.db, service.storage, service.settings, "w2") == "completed"
    assert during and not any(during)  # gone before the retry ran
    assert not leftover.parent.exists()

    other = api.submit(key, {"script": "Another one.", "music": "none", "preview": True})
    crashed = Path(api.settings.work_dir) / other / "attempt-1"
    crashed.mkdir(parents=True)
    (crashed / "frame.png").write_bytes(b"left behind")
    deleted = api.client.delete(f"/api/jobs/{other}", headers=api.headers(key))
    assert deleted.status_code == 204
    assert not crashed.parent.exists()
