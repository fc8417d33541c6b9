# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""API keys: required unless open mode, hashed at rest, scoped to their owner, rate limited,
with a daily job quota; the ``keys`` commands; CORS."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from conftest_api import Api, api, assert_problem, make_api  # noqa: F401
from sqlalchemy import text

from reelforge.service import auth


def test_no_or_bad_key_is_401(api: Api) -> None:
    body = assert_problem(api.client.get("/api/jobs"), 401)
    assert "keys create" in body["hint"]
    response = api.client.get("/api/jobs", headers={"Authorization": "Bearer rf_not-a-key"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert_problem(api.client.get("/api/jobs", headers={"X-API-Key": "nonsense"}), 401)
    assert_problem(api.client.post("/api/videos", json={"script": "Hi."}), 401)
    assert_problem(api.client.post("/api/media", files={"file": ("a.png", b"x")}), 401)


def test_both_header_forms_work_and_keys_are_stored_hashed(api: Api) -> None:
    key = api.key("alice")
    assert key.startswith("rf_") and len(key) > 40
    assert api.client.get("/api/jobs", headers={"X-API-Key": key}).status_code == 200
    assert (
        api.client.get("/api/jobs", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    )
    with api.service.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT key_hash, prefix FROM api_keys")).all()
    assert rows == [(auth.hash_key(key), key[:10])]
    with api.service.db.engine.connect() as connection:
        dump = "\n".join(str(r) for r in connection.execute(text("SELECT * FROM api_keys")))
    assert key not in dump


def test_revoked_key_is_refused(api: Api) -> None:
    key = api.key("bob")
    assert api.client.get("/api/jobs", headers=api.headers(key)).status_code == 200
    auth.revoke_api_key(api.service.db, "bob")
    assert_problem(api.client.get("/api/jobs", headers=api.headers(key)), 401)


def test_jobs_are_scoped_to_the_owner(api: Api) -> None:
    alice, mallory = api.key("alice"), api.key("mallory")
    job_id = api.submit(alice)
    api.wait(job_id, alice)
    h = api.headers(mallory)
    for method, url in (
        ("GET", f"/api/jobs/{job_id}"),
        ("GET", f"/api/jobs/{job_id}/events"),
        ("GET", f"/api/jobs/{job_id}/files/video"),
        ("POST", f"/api/jobs/{job_id}/retry"),
        ("DELETE", f"/api/jobs/{job_id}"),
    ):
        assert_problem(api.client.request(method, url, headers=h), 404)
    assert api.client.get("/api/jobs", headers=h).json()["total"] == 0
    assert api.client.get("/api/jobs", headers=api.headers(alice)).json()["total"] == 1
    # Still there for its owner after mallory's DELETE; a second key of alice's sees it too.
    second = api.key("alice")
    assert api.client.get(f"/api/jobs/{job_id}", headers=api.headers(second)).status_code == 200


def test_rate_limit_is_429_with_retry_after(make_api: Any, fake_make: Any) -> None:
    # A bucket of 3 (18 s of 10 a minute) refilling every 6 s: no timing race.
    api = make_api(rate_per_minute=10, rate_burst=60, rate_burst_s=18)
    key, other = api.key("alice"), api.key("bob")
    codes = [api.client.get("/api/jobs", headers=api.headers(key)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.client.get("/api/jobs", headers=api.headers(key))
    body = assert_problem(response, 429)
    assert 1 <= int(response.headers["retry-after"]) <= 6
    assert "rate limit" in body["detail"]
    # Another key has its own bucket.
    assert api.client.get("/api/jobs", headers=api.headers(other)).status_code == 200


def test_per_key_rate_override(make_api: Any, fake_make: Any) -> None:
    api = make_api(rate_per_minute=0, rate_burst=2)  # unlimited by default
    limited = api.key("slow", rate_per_minute=1)  # a bucket of one request, not the burst
    codes = [
        api.client.get("/api/jobs", headers=api.headers(limited)).status_code for _ in range(3)
    ]
    assert codes == [200, 429, 429]


def test_daily_job_quota(make_api: Any, fake_make: Any) -> None:
    api = make_api(jobs_per_day=2)
    key = api.key("alice")
    h = api.headers(key)
    # A refused request does not use the quota.
    assert (
        api.client.post(
            "/api/videos", headers=h, json={"script": "Hi.", "template": "nope"}
        ).status_code
        == 422
    )
    first = api.submit(key)
    api.submit(key)
    response = api.client.post(
        "/api/videos", headers=h, json={"script": "One more.", "music": "none", "preview": True}
    )
    body = assert_problem(response, 429)
    assert "quota of 2 jobs" in body["detail"] and "midnight UTC" in body["hint"]
    assert 1 <= int(response.headers["retry-after"]) <= 86400
    # Deleting a job does not give the quota back.
    api.wait(first, key)
    assert api.client.delete(f"/api/jobs/{first}", headers=h).status_code == 204
    assert_problem(api.client.post("/api/videos", headers=h, json={"script": "Again."}), 429)
    # Quotas are per owner; a key may carry its own.
    generous = api.key("carol", jobs_per_day=5)
    api.submit(generous)


def test_quota_counts_are_exact_under_concurrency(tmp_path: Path) -> None:
    import threading

    from reelforge.service.db import Database

    db = Database(f"sqlite:///{tmp_path / 'q.db'}")
    db.migrate()
    results: list[str] = []

    def submit() -> None:
        try:
            auth.reserve_job(db, "alice", 5)
            results.append("ok")
        except auth.QuotaExceeded:
            results.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok"] * 5 + ["refused"] * 7
    auth.release_job(db, "alice", 5)
    assert auth.reserve_job(db, "alice", 5) == 5
    assert auth.reserve_job(db, "bob", 0) == 0  # unlimited
    db.dispose()


def test_token_bucket_refills(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    limiter = auth.RateLimiter(per_minute=60, burst=2)  # one a second, two at once
    assert limiter.take("k") == 0.0 and limiter.take("k") == 0.0
    assert limiter.take("k") == pytest.approx(1.0)
    clock[0] += 0.5
    assert limiter.take("k") == pytest.approx(0.5)
    clock[0] += 0.5
    assert limiter.take("k") == 0.0
    clock[0] += 60
    assert [limiter.take("k") for _ in range(3)][:2] == [0.0, 0.0]  # refills only to the burst
    assert limiter.take("other") == 0.0
    assert limiter.take("k", per_minute=6000) > 0  # a per-key rate, same bucket
    assert auth.RateLimiter(per_minute=0, burst=1).take("k") == 0.0


def test_keys_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from reelforge.service.cli import add_service_commands

    monkeypatch.setenv("REELFORGE_DATA_DIR", str(tmp_path / "data"))
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    handlers = add_service_commands(sub)
    assert set(handlers) == {"serve", "keys"}

    def run(*argv: str) -> str:
        args = parser.parse_args(list(argv))
        assert handlers[args.command](args) == 0
        return capsys.readouterr().out

    key = run("keys", "create", "studio", "--jobs-per-day", "5").strip()
    assert key.startswith("rf_")
    listing = run("keys", "list")
    assert "studio" in listing and key[:10] in listing and key not in listing
    run("keys", "revoke", "studio")
    assert "studio" not in run("keys", "list")
    assert "revoked" in run("keys", "list", "--all")
    serve = parser.parse_args(["serve", "--port", "9", "--open"])
    assert serve.open and serve.port == 9 and serve.workers == 1


def test_cors_origins(make_api: Any, fake_make: Any) -> None:
    api = make_api(cors_origins="https://studio.example")
    preflight = api.client.options(
        "/api/videos",
        headers={
            "Origin": "https://studio.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://studio.example"
    other = api.client.options(
        "/api/videos",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert other.headers.get("access-control-allow-origin") != "https://evil.example"


def test_api_keys_migration_goes_down_and_up(tmp_path: Path) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from reelforge.service.db import Database, alembic_config

    db = Database(f"sqlite:///{tmp_path / 'keys.db'}")
    db.migrate()
    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    assert db.current_revision() == head  # the newest migration, whichever it is
    assert "api_keys" in inspect(db.engine).get_table_names()
    key = auth.create_api_key(db, "carol")
    assert auth.find_api_key(db, key) is not None
    command.downgrade(alembic_config(db), "0001_jobs")
    assert not {"api_keys", "api_usage"} & set(inspect(db.engine).get_table_names())
    assert "jobs" in inspect(db.engine).get_table_names()
    db.migrate()
    assert auth.find_api_key(db, key) is None  # the table came back empty
    db.dispose()
