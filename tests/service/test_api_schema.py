# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""A bounded schemathesis run over the published OpenAPI schema: no input may cause a 5xx.

Every operation gets a handful of generated requests, schema-valid (positive) and invalid
(negative), sent in open mode against the in-process app with the quick fake renderer. Driven
through schemathesis's Python API and Hypothesis directly (its pytest plugin does not run under
pytest 9 here); the whole run stays well under a minute.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest_api import Api, make_api  # noqa: F401

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

EXAMPLES_PER_OPERATION = 5


@pytest.fixture
def fuzzed_api(make_api: Any, fake_make: Any) -> Api:
    # No job workers (submitted jobs stay queued), short event streams.
    return make_api(workers=0, sse_max_s=1.0, sse_poll_s=0.05)


def test_fuzzing_the_openapi_schema_finds_no_server_error(fuzzed_api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_api.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Generated requests carry this valid key, so they reach past authentication.
    headers = fuzzed_api.headers(fuzzed_api.key("fuzzer"))
    labels = {op.label for op in operations}
    assert {
        "POST /api/videos",
        "GET /api/jobs/{job_id}",
        "POST /api/media",
        "GET /api/jobs/{job_id}/files/{name}",
    } <= labels
    calls: dict[str, list[int]] = {}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, headers, calls)
    assert set(calls) == labels
    problems = [
        (label, status) for label, statuses in calls.items() for status in statuses if status >= 500
    ]
    assert problems == []
    # The run really reached the endpoints: some requests were accepted, some refused.
    everything = [s for statuses in calls.values() for s in statuses]
    assert any(s < 300 for s in everything) and any(400 <= s < 500 for s in everything)


def _fuzz(operation: Any, mode: Any, headers: dict[str, str], calls: dict[str, list[int]]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        calls.setdefault(operation.label, []).append(response.status_code)
        where = f"{case.method} {case.formatted_path} ({mode.value})"
        assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text}"
        if 400 <= response.status_code != 405:
            content_type = response.headers.get("content-type", [""])
            content_type = content_type[0] if isinstance(content_type, list) else content_type
            assert content_type.startswith("application/problem+json"), (
                where,
                response.status_code,
                content_type,
            )

    try:
        run()
    except Unsatisfiable:
        # An operation without parameters or body has no invalid input to generate.
        assert mode == GenerationMode.NEGATIVE, operation.label
