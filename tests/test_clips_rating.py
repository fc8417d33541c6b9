"""The language model's rating of candidate moments, against a loopback chat-completions
server: blended with the explainable score, validated and asked again, and every failure
(timeout, no server, refusals, answers that never validate) falling back to the explainable
scores with a note."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chat_server import FakeChatServer, ratings_answer
from servers import free_port

from reelforge.clips.moments import Moment, find_moments
from reelforge.clips.rating import LLM_WEIGHT, rate, read_ratings
from reelforge.engines.base import Word
from reelforge.errors import SpecError
from reelforge.settings import Settings

TALK = (
    "Why does pricing matter so much? Pricing tells buyers what you are worth. "
    "So we raised prices. And they paid. Now hiring is the next problem. "
    "Your first engineer takes months to find. Look for people who love the problem. "
    "They will stay when it gets hard."
)


def _words(text: str, per_word_ms: int = 350) -> list[Word]:
    return [
        Word(token, k * per_word_ms, k * per_word_ms + per_word_ms - 50)
        for k, token in enumerate(text.split())
    ]


@pytest.fixture(scope="module")
def moments() -> list[Moment]:
    found = find_moments(_words(TALK), count=12, min_s=2, max_s=6)
    assert len(found) >= 3
    return found


def _settings(url: str, **more: Any) -> Settings:
    return Settings(**{"llm_endpoint": url, "llm_model": "fake-model", "llm_timeout_s": 5, **more})


def test_the_ratings_blend_with_the_explainable_score(moments: list[Moment]) -> None:
    def reverse(n: int, count: int) -> float:
        return 100 * n / count  # the last candidate best

    with FakeChatServer(answer=lambda body: ratings_answer(body, reverse)) as server:
        rated = rate(moments, query="pricing", settings=_settings(server.url))
    assert rated.model == "fake-model-1" and not rated.note, rated.note
    request = server.requests[0]
    assert request["model"] == "fake-model"
    assert request["response_format"]["json_schema"]["name"] == "ratings"
    assert "about 'pricing'" in request["messages"][0]["content"]
    for number, moment in enumerate(moments, 1):  # every candidate sent, with its words
        assert (
            f"id {number} ({moment.duration_s:.0f} s): {moment.text}"
            in (request["messages"][1]["content"])
        )
    count = len(moments)
    by_text = {m.text: m for m in moments}
    for moment in rated.moments:
        before = by_text[moment.text]
        number = moments.index(before) + 1
        llm = 100 * number / count
        assert moment.score == round((1 - LLM_WEIGHT) * before.score + LLM_WEIGHT * llm, 1)
        assert moment.components["llm"] == round(llm / 100, 3)
        assert moment.reasons[:-1] == before.reasons
        assert moment.reasons[-1] == (
            f"the language model rates it {llm:.0f}/100: candidate {number} is the one"
        )
    scores = [m.score for m in rated.moments]
    assert scores == sorted(scores, reverse=True)
    assert rated.moments[0].text != moments[0].text  # the model's opinion changed the order


def test_an_invalid_answer_is_asked_again_with_its_problems(moments: list[Moment]) -> None:
    count = len(moments)
    wrong = {"ratings": [{"id": 1, "score": 140, "reason": "great"}, {"id": 99, "score": 5}]}
    good = {"ratings": [{"id": n, "score": 50, "reason": "fine"} for n in range(1, count + 1)]}
    with FakeChatServer(["Sure! Here you go", json.dumps(wrong), json.dumps(good)]) as server:
        rated = rate(moments, settings=_settings(server.url))
    assert len(server.requests) == 3 and not rated.note
    second = server.requests[1]["messages"][-1]["content"]
    assert "not a JSON object" in second
    third = server.requests[2]["messages"][-1]["content"]
    assert "ratings[0].score: 140 must be a number from 0 to 100" in third
    assert f"ratings[1].id: 99 is not one of the ids 1..{count}" in third
    assert all(m.components["llm"] == 0.5 for m in rated.moments)


def test_failures_fall_back_to_the_explainable_scores_with_a_note(
    moments: list[Moment],
) -> None:
    def refused() -> tuple[int, bytes]:
        return 500, b'{"error": {"message": "model overloaded"}}'

    cases: list[tuple[str, list[Any], float, str]] = [
        ("never valid", ['{"ratings": []}'], 0, "did not validate after 2 attempts"),
        ("timeout", ['{"ratings": []}'], 2.0, "did not answer within 1 s"),
        ("refusal", [refused], 0, "HTTP 500): model overloaded"),
    ]
    for name, replies, delay, said in cases:
        with FakeChatServer(replies, delay=delay) as server:
            settings = _settings(server.url, llm_attempts=2, llm_timeout_s=1)
            rated = rate(moments, settings=settings)
        assert list(rated.moments) == moments[:12], name  # unchanged, same order
        assert rated.model == "" and said in rated.note, (name, rated.note)
        assert rated.note.endswith("explainable scores only")
    down = rate(moments, settings=_settings(f"http://127.0.0.1:{free_port()}/v1"))
    assert "cannot reach the language model" in down.note
    unset = rate(moments, settings=Settings(llm_endpoint=""))
    assert list(unset.moments) == moments and unset.note == "" and unset.model == ""


def test_read_ratings_names_every_problem() -> None:
    fenced = (
        '```json\n{"ratings": [{"id": 2, "score": 7, "reason": " ok "},'
        ' {"id": 1, "score": 90.5, "reason": "a  strong hook"}]}\n```'
    )
    good = read_ratings(fenced, 2)
    assert good[1].score == 90.5 and good[1].reason == "a strong hook" and good[2].reason == "ok"
    with pytest.raises(SpecError) as twice:
        read_ratings(
            '{"ratings": [{"id": 1, "score": 5, "reason": "x"}, '
            '{"id": 1, "score": 6, "reason": "y"}, {"id": true, "score": 1}]}',
            2,
        )
    assert "ratings[1].id: 1 is rated twice" in twice.value.message
    assert "ratings[2].id: True is not one of the ids" in twice.value.message
    with pytest.raises(SpecError, match="no rating for id 2"):
        read_ratings('{"ratings": [{"id": 1, "score": 5, "reason": "x"}]}', 2)
    with pytest.raises(SpecError, match="reason: missing"):
        read_ratings('{"ratings": [{"id": 1, "score": 5, "reason": " "}]}', 1)
    with pytest.raises(SpecError, match='no "ratings" list'):
        read_ratings('{"scores": []}', 1)
