# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""POST /api/scripts: a script from an idea, written synchronously by the server's writer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest_api import Api, api, assert_problem, make_api, open_api  # noqa: F401
from loopback import LoopbackServer, Reply, Request

from reelforge.settings import get_settings

IDEA = "a 30-second promo for a couscous restaurant in Algiers"


def test_a_script_from_an_idea_then_a_video_from_it(open_api: Api) -> None:
    response = open_api.client.post("/api/scripts", json={"idea": IDEA, "language": "fr"})
    assert response.status_code == 200, response.text
    written = response.json()
    assert written["engine"] == "rule-based" and written["model"] == ""
    assert any("rule-based" in note for note in written["notes"])
    board = written["storyboard"]
    assert board["language"] == "fr" and board["template"] == "restaurant"
    assert 3 <= len(board["scenes"]) <= 6
    assert written["markdown"].count("\n## ") == len(board["scenes"])
    # what it wrote is a valid submission, as a storyboard and as a script
    open_api.submit(None, {"storyboard": board, "music": "none", "preview": True})
    open_api.submit(None, {"script": written["markdown"], "music": "none", "preview": True})


def test_bad_ideas_are_problems_with_hints(open_api: Api) -> None:
    c = open_api.client
    assert_problem(c.post("/api/scripts", json={"idea": ""}), 422)
    assert_problem(c.post("/api/scripts", json={"idea": "x" * 9000}), 422)
    assert_problem(c.post("/api/scripts", json={"idea": IDEA, "seconds": 9999}), 422)
    body = assert_problem(c.post("/api/scripts", json={"idea": "   "}), 422)
    assert "empty" in body["detail"] and body["hint"]
    body = assert_problem(c.post("/api/scripts", json={"idea": IDEA, "template": "resto"}), 422)
    assert "template" in body["detail"]
    # a request cannot name an endpoint, a model or a key
    sneaky = {"idea": IDEA, "endpoint": "http://127.0.0.1:1/v1", "model": "x"}
    assert_problem(c.post("/api/scripts", json=sneaky), 422)


def test_a_key_is_needed_when_the_server_is_not_open(api: Api) -> None:
    assert_problem(api.client.post("/api/scripts", json={"idea": IDEA}), 401)
    key = api.key()
    response = api.client.post("/api/scripts", json={"idea": IDEA}, headers=api.headers(key))
    assert response.status_code == 200, response.text


def test_the_configured_language_model_and_no_other(
    open_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []
    answer = {
        "title": "Alger",
        "scenes": [
            {"title": t, "narration": n, "visual": {"prompt": "a bowl of couscous"}}
            for t, n in (
                ("Bienvenue", "Entrez, le couscous est prêt et la table vous attend."),
                ("Fait main", "La semoule est roulée à la main chaque matin."),
                ("Réservez", "Réservez votre table ce soir, nous vous attendons."),
            )
        ],
    }

    def reply(request: Request) -> Reply:
        seen.append(request.json())
        completion = {"model": "m", "choices": [{"message": {"content": json.dumps(answer)}}]}
        return Reply(200, json.dumps(completion).encode())

    server = LoopbackServer(reply)
    monkeypatch.setenv("REELFORGE_LLM_ENDPOINT", f"{server.url}/v1")
    get_settings.cache_clear()
    try:
        c = open_api.client
        written = c.post("/api/scripts", json={"idea": IDEA, "language": "fr"}).json()
        assert written["engine"] == "openai-compatible" and len(seen) == 1
        offline = c.post("/api/scripts", json={"idea": IDEA, "engine": "rule-based"}).json()
        assert offline["engine"] == "rule-based" and len(seen) == 1

        server.close()
        down = c.post("/api/scripts", json={"idea": IDEA, "language": "fr"})
        body = assert_problem(down, 422)  # the configured endpoint is unreachable
        assert "rule-based" in body["hint"]
    finally:
        get_settings.cache_clear()
