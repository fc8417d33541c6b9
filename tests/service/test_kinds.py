# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""Job kinds plug into the service through :mod:`reelforge.kinds` alone.

A toy kind, defined and registered here and nowhere in the service, runs end to end in the real
app's in-process worker: submitted over HTTP by a route that only parses its request, processed
with progress, its outputs listed and downloadable by the names of its output table. The
service core has no import cycle, and both pricing endpoints price with one formula.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest_api import Api, assert_problem, make_api  # noqa: F401
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from reelforge import kinds
from reelforge.kinds import JobKind, JobRequest, KindResult, Output, Progress, Workload
from reelforge.service.api.deps import CallerDep, ServiceDep


class ToyRequest(JobRequest):
    text: str = Field(min_length=1, max_length=200)
    shout: bool = False
    summary_bytes: int = Field(0, ge=0, le=100_000)  # pad the summary (its size limit)


def run_toy(
    request: ToyRequest, workdir: Path, progress: Progress, *, cache_dir: Path | None = None
) -> KindResult:
    progress("write", 0.5)
    text = workdir / "toy.txt"
    text.write_text(request.text, encoding="utf-8")
    files = {"text": text}
    if request.shout:
        files["shout"] = workdir / "toy.upper.txt"
        files["shout"].write_text(request.text.upper(), encoding="utf-8")
    progress("write", 1.0)
    summary = {
        "letters": len(request.text),
        "where": str(text),  # a server path: the service must not show it
        "items": [{"rank": 1, "outputs": {"plain": "text"}}],
        "pad": "x" * request.summary_bytes,
    }
    if request.shout:
        summary["items"].append({"rank": 2, "outputs": {"plain": "shout"}})  # type: ignore[attr-defined]
    return KindResult(files, summary=summary)


TOY = JobKind(
    name="toy",
    request=ToyRequest,
    run=run_toy,
    outputs={
        "text": Output("toy.txt", "text/plain", "text"),
        "shout": Output("toy.upper.txt", "text/plain", "shout", required=False),
    },
    workload=lambda request: Workload(seconds=len(request.text) / 10),
)

toys = APIRouter(prefix="/api/toys")


@toys.post("", status_code=202)
async def create_toy(body: ToyRequest, service: ServiceDep, caller: CallerDep) -> dict[str, Any]:
    job = await run_in_threadpool(service.submit, "toy", body, owner=caller.owner)
    return {"id": job.id, "status": job.status}


@pytest.fixture
def toy_kind() -> Iterator[None]:
    kinds.register("toy", f"{__name__}:TOY")
    yield
    kinds.unregister("toy")


def test_a_kind_added_in_the_tests_runs_end_to_end_in_the_app(make_api, toy_kind) -> None:
    api: Api = make_api()
    api.client.app.include_router(toys)  # the kind's route: it only parses the kind's request
    key = api.key("alice")
    response = api.client.post(
        "/api/toys", json={"text": "Hello, toy.", "shout": True}, headers=api.headers(key)
    )
    assert response.status_code == 202, response.text
    job = api.wait(response.json()["id"], key)
    assert job["status"] == "completed" and job["kind"] == "toy", job
    assert job["progress"] == 100.0
    assert set(job["links"]["files"]) == {"text", "shout"}
    text = api.client.get(job["links"]["files"]["text"], headers=api.headers(key))
    assert text.status_code == 200 and text.text == "Hello, toy."
    assert text.headers["content-type"].startswith("text/plain")
    assert text.headers["content-disposition"] == f'inline; filename="{job["id"]}.txt"'
    shout = api.client.get(job["links"]["files"]["shout"], headers=api.headers(key))
    assert shout.text == "HELLO, TOY."
    assert_problem(
        api.client.get(f"/api/jobs/{job['id']}/files/video", headers=api.headers(key)), 404
    )
    listed = api.client.get("/api/jobs?kind=toy", headers=api.headers(key)).json()
    assert [item["id"] for item in listed["items"]] == [job["id"]]
    stages = {event.message for event in api.service.events(job["id"])}
    assert "write" in stages  # the kind's own progress reached the job's events


def test_a_kinds_request_is_validated_by_its_model(make_api, toy_kind) -> None:
    api: Api = make_api()
    from reelforge.errors import SpecError

    with pytest.raises(SpecError, match="text"):
        api.service.submit("toy", {"text": ""})
    with pytest.raises(SpecError, match="path: Extra inputs"):
        api.service.submit("toy", {"text": "a", "path": "/etc/passwd"})
    optional = api.service.submit("toy", {"text": "no shouting"})
    deadline = time.monotonic() + 30
    while api.service.get(optional.id).status != "completed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(api.service.get(optional.id).result) == {"text"}


def test_an_unknown_kind_is_refused(make_api) -> None:
    api: Api = make_api()
    from reelforge.errors import JobError

    with pytest.raises(JobError, match="unknown job kind"):
        api.service.submit("toy", {"text": "a"})
    key = api.key()
    assert_problem(api.client.get("/api/jobs?kind=toy", headers=api.headers(key)), 422)


def test_both_pricing_endpoints_use_one_formula(make_api) -> None:
    api: Api = make_api()
    by_length = api.client.get("/api/pricing", params={"duration": 60}).json()
    by_request = api.client.post(
        "/api/pricing", json={"script": "Hello there.", "duration": 60, "format": "16:9"}
    ).json()
    assert by_request["duration_s"] == 60
    assert by_length["compute_seconds"] == pytest.approx(by_request["compute_s"], abs=0.1)
    assert by_length["cost"] == pytest.approx(by_request["cost"], rel=0.01)


CORE = ("jobs", "worker", "executor", "celery_app", "requests", "recovery", "pricing", "lifecycle")


def _imports(module: str) -> set[str]:
    """Service modules ``module`` imports, at any depth of its code (function-level too)."""
    path = Path(__file__).parents[2] / "reelforge" / "service" / f"{module}.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("reelforge.service."):
                found.add(node.module.removeprefix("reelforge.service.").split(".")[0])
            elif node.module == "reelforge.service":
                found |= {alias.name for alias in node.names}
    return found - {module}


def test_the_service_core_has_no_import_cycle() -> None:
    graph = {module: _imports(module) & set(CORE) for module in CORE}

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            step == goal or (step not in seen and reaches(step, goal, seen | {step}))
            for step in graph[start]
        )

    assert [module for module in CORE if reaches(module, module)] == []
    assert "jobs" not in graph["worker"] and "worker" in graph["executor"]


def test_each_kind_is_admitted_under_its_own_length_limit(make_api, toy_kind) -> None:
    from reelforge.errors import SpecError

    api: Api = make_api(max_output_seconds={"toy": 2.0})
    with pytest.raises(SpecError, match="the toy would last about 3 s; .* at most 2 s"):
        api.service.submit("toy", {"text": "x" * 30})  # the toy's workload: 1 s per 10 letters
    assert api.service.submit("toy", {"text": "x" * 20}).status == "queued"
    assert api.service.estimate({"script": " ".join(["word"] * 100)})["duration_s"] > 2


def test_a_kinds_result_summary_is_shown_with_links_to_its_owner_only(make_api, toy_kind) -> None:
    api: Api = make_api()
    api.client.app.include_router(toys)
    alice, bob = api.key("alice"), api.key("bob")
    response = api.client.post(
        "/api/toys", json={"text": "Hi, toy.", "shout": True}, headers=api.headers(alice)
    )
    job = api.wait(response.json()["id"], alice)
    assert job["status"] == "completed", job
    summary = job["summary"]
    assert summary["letters"] == 8
    assert summary["where"] == "work:toy.txt"  # scrubbed like a manifest: no server path
    first, second = summary["items"]
    assert "outputs" not in first and first["rank"] == 1
    assert first["files"] == {"plain": job["links"]["files"]["text"]}
    assert second["files"] == {"plain": job["links"]["files"]["shout"]}
    got = api.client.get(first["files"]["plain"], headers=api.headers(alice))
    assert got.status_code == 200 and got.text == "Hi, toy."
    signed = api.client.get(second["signed"]["plain"])  # no key: the token is the permission
    assert signed.status_code == 200 and signed.text == "HI, TOY."
    listed = api.client.get("/api/jobs?kind=toy", headers=api.headers(alice)).json()
    assert listed["items"][0]["summary"] == summary
    assert_problem(api.client.get(f"/api/jobs/{job['id']}", headers=api.headers(bob)), 404)
    others = api.client.get("/api/jobs", headers=api.headers(bob)).json()
    assert others["items"] == []


def test_a_summary_over_its_size_limit_fails_the_job(make_api, toy_kind) -> None:
    api: Api = make_api()
    job = api.service.submit("toy", {"text": "big", "summary_bytes": kinds.SUMMARY_MAX_BYTES})
    deadline = time.monotonic() + 30
    while api.service.get(job.id).status not in ("completed", "failed") and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    done = api.service.get(job.id)
    assert done.status == "failed" and done.summary is None
    assert "summary takes" in (done.error or "") and "bug in reelforge" in (done.hint or "")
