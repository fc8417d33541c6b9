# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""Catalogue (templates, voices, moods, options, pricing), health, metrics and the OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
from conftest_api import Api, api, assert_problem, make_api, open_api  # noqa: F401


def test_templates_moods_and_options(open_api: Api) -> None:
    c = open_api.client
    templates = c.get("/api/templates").json()
    assert "restaurant" in {t["name"] for t in templates}
    assert all(t["palette"] and t["music_mood"] for t in templates)
    moods = c.get("/api/music-moods").json()
    assert {"cinematic", "calm", "indian", "maghreb", "lullaby"} <= {m["name"] for m in moods}
    options = c.get("/api/options").json()
    assert options["formats"] == ["16:9", "9:16", "1:1"]
    assert "karaoke" in options["caption_styles"] and "none" in options["caption_styles"]
    assert "en" in options["languages"]
    assert "captions.srt" in options["downloads"]
    engines = {(e["kind"], e["name"]): e for e in options["engines"]}
    assert ("voice", "espeak") in engines and ("music", "procedural") in engines
    for engine in engines.values():
        assert engine["available"] or engine["reason"], engine


def test_options_say_why_an_engine_cannot_run(
    open_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reelforge.engines import registry
    from reelforge.service.api import catalogue

    monkeypatch.setitem(
        registry.AVAILABLE_ENGINES["voice"], "missing", "reelforge_no_such_module:Engine"
    )
    catalogue.reset_cache()
    try:
        engines = open_api.client.get("/api/options").json()["engines"]
    finally:
        monkeypatch.undo()
        catalogue.reset_cache()
    missing = next(e for e in engines if e["name"] == "missing")
    assert missing["available"] is False
    assert "cannot be imported" in missing["reason"] and "pip install" in missing["reason"]


def test_options_say_whether_captions_can_be_translated(
    open_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The studio's translation choice reads this: the engine, or why none and what to set."""
    from reelforge.service.api import catalogue
    from reelforge.settings import get_settings

    def translation() -> dict[str, Any]:
        catalogue.reset_cache()
        get_settings.cache_clear()
        try:
            return open_api.client.get("/api/options").json()["translation"]  # type: ignore[no-any-return]
        finally:
            catalogue.reset_cache()
            get_settings.cache_clear()

    for name in ("TRANSLATION_ENGINE", "TRANSLATION_MODEL", "LLM_ENDPOINT"):
        monkeypatch.delenv(f"REELFORGE_{name}", raising=False)
    none = translation()
    assert none["available"] is False and none["engine"] is None
    assert "no translation engine" in none["reason"], none["reason"]
    assert "REELFORGE_TRANSLATION_MODEL" in none["hint"], none["hint"]
    assert {"code": "fr", "name": "French"} in none["languages"] and len(none["languages"]) >= 40
    assert none["max_languages"] == 8
    monkeypatch.setenv("REELFORGE_LLM_ENDPOINT", "http://127.0.0.1:9/v1")
    chat = translation()
    assert chat["available"] is True and chat["engine"] == "openai-compatible"
    assert chat["reason"] == chat["hint"] == ""


def test_voices_filter(open_api: Api) -> None:
    c = open_api.client
    everything = c.get("/api/voices").json()
    assert len(everything) > 10
    french = c.get("/api/voices?language=fr").json()
    assert french and {v["language"] for v in french} == {"fr"}
    women = c.get("/api/voices?language=fr-FR&gender=female&age=adult").json()
    assert women and all(v["gender"] == "female" and v["age"] == "adult" for v in women)
    assert c.get("/api/voices?language=xx").json() == []
    # Every age of the catalogue filters (teen, toddler... came with the Kokoro voices).
    for found in {v["age"] for v in c.get("/api/voices").json()}:
        listed = c.get(f"/api/voices?age={found}").json()
        assert listed and {v["age"] for v in listed} == {found}, found
    assert c.get("/api/voices?age=Adult;drop").status_code == 422
    body = assert_problem(c.get("/api/voices?gender=robot"), 422)
    assert body["errors"][0]["field"] == "gender"


def test_characters_list_the_built_in_cast(open_api: Api) -> None:
    cast = open_api.client.get("/api/characters").json()
    maya = next(c for c in cast if c["name"] == "maya")
    assert maya["display_name"] == "Maya" and maya["voice"] == "en-adult-female", maya
    assert {c["gender"] for c in cast} == {"female", "male"} and len(cast) >= 8


def test_pricing(open_api: Api) -> None:
    c = open_api.client
    s = open_api.settings
    quote = c.get("/api/pricing?duration=60").json()
    compute = s.compute_overhead_s + 60 * s.compute_per_output_second
    assert quote["compute_seconds"] == pytest.approx(compute, abs=0.01)
    assert quote["cost"] == pytest.approx(compute * s.price_cpu_second)
    preview = c.get("/api/pricing?duration=60&preview=true&accelerator=gpu").json()
    assert preview["compute_seconds"] < quote["compute_seconds"]
    assert preview["price_per_compute_second"] == s.price_gpu_second
    assert_problem(c.get("/api/pricing?duration=-3"), 422)
    estimate = c.post("/api/pricing", json={"script": "One. Two. Three.", "preview": True})
    assert estimate.status_code == 200, estimate.text
    assert estimate.json()["scenes"] >= 1 and estimate.json()["cost"] > 0


def test_health_ok_then_503_when_the_database_is_down(
    make_api: Any, fake_make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = make_api()
    admin = api.headers(api.key("ops", admin=True))  # details need an admin key
    health = api.client.get("/api/health", headers=admin)
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] in ("ok", "degraded")
    for part in ("database", "queue", "storage", "ffmpeg"):
        assert body["parts"][part] == {**body["parts"][part], "ok": True, "required": True}
    assert any(name.startswith("engine:voice:") for name in body["parts"])
    assert body["parts"]["executor"]["info"]["kind"] == "InProcessExecutor"

    from reelforge.errors import JobError

    def down() -> None:
        raise JobError("the database is unreachable: gone", hint="start it")

    monkeypatch.setattr(api.service.db, "check", down)
    broken = api.client.get("/api/health", headers=admin)
    assert broken.status_code == 503
    assert broken.json()["status"] == "down"
    assert broken.json()["parts"]["database"]["ok"] is False
    assert "unreachable" in broken.json()["parts"]["database"]["detail"]


def test_metrics(api: Api) -> None:
    key = api.key()
    job_id = api.submit(key)
    api.wait(job_id, key)
    text = api.client.get("/metrics", headers=api.headers(api.key("ops", admin=True))).text
    assert 'reelforge_jobs{status="completed"} 1.0' in text
    assert 'reelforge_queue_depth{queue="cpu"} 0.0' in text
    assert "reelforge_jobs_submitted_total 1.0" in text
    assert (
        'reelforge_http_request_duration_seconds_count{method="GET",route="/api/jobs/{job_id}"'
        in text
    )
    assert 'route="/api/videos",status="202"' in text


def test_openapi_and_docs(open_api: Api) -> None:
    schema = open_api.client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/videos",
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/events",
        "/api/jobs/{job_id}/retry",
        "/api/jobs/{job_id}/files/{name}",
        "/api/media",
        "/api/templates",
        "/api/voices",
        "/api/characters",
        "/api/music-moods",
        "/api/options",
        "/api/pricing",
        "/api/health",
    ):
        assert path in paths, path
    assert "multipart/form-data" in paths["/api/media"]["post"]["requestBody"]["content"]
    problem = paths["/api/videos"]["post"]["responses"]["422"]["content"]
    assert "application/problem+json" in problem
    schemes = schema["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schemes)
    docs = open_api.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
