"""``POST /api/scripts``: write a script from an idea, synchronously (200).

The answer is the storyboard (submit it as ``storyboard`` to ``POST /api/videos``) and its
Markdown script (submit it as ``script``). A language model writes it when the server's
settings configure one (``REELFORGE_LLM_ENDPOINT``); the request can choose between the
server's writers but never names an endpoint, a model or a key, so no caller can make the
server send a request anywhere else. Writes are rate-limited per key like every route, and
only a few run at once (a language model answer can take a minute).
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

import reelforge
from reelforge.errors import EngineFailed
from reelforge.service.api.deps import CallerDep
from reelforge.service.api.problems import ApiProblem, Unavailable, responses
from reelforge.spec.writing import MAX_IDEA_CHARS, MAX_SECONDS, MAX_WRITTEN_SCENES, MIN_SECONDS

router = APIRouter(prefix="/api/scripts", tags=["scripts"])

MAX_WRITING_AT_ONCE = 4
_writing = threading.BoundedSemaphore(MAX_WRITING_AT_ONCE)


class WriterFailed(ApiProblem):
    status, slug, title = 502, "writer-failed", "The writer could not write the script"


class ScriptRequest(BaseModel):
    """An idea to write a script from."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "idea": "a 30-second promo for a couscous restaurant in Algiers",
                    "language": "fr",
                }
            ]
        },
    )

    idea: str = Field(
        min_length=1,
        max_length=MAX_IDEA_CHARS,
        description="a sentence, notes or bullet points",
    )
    language: str | None = Field(
        None, max_length=16, description="language of the script (default: the idea's)"
    )
    template: str | None = Field(None, max_length=64, description="see GET /api/templates")
    seconds: float | None = Field(
        None, ge=MIN_SECONDS, le=MAX_SECONDS, description="video length (default: 30)"
    )
    max_scenes: int = Field(6, ge=1, le=MAX_WRITTEN_SCENES)
    engine: Literal["rule-based", "openai-compatible"] | None = Field(
        None,
        description="the server's writer: its configured language model, or the offline "
        "rule-based one (default: the model when one is configured)",
    )


class ScriptOut(BaseModel):
    engine: str = Field(description="the writer that wrote it ('rule-based' or a model's)")
    model: str = Field(description="the language model, '' for the rule-based writer")
    attempts: int
    notes: list[str] = Field(description="what to know about the draft")
    storyboard: dict[str, Any] = Field(description="submit as 'storyboard' to POST /api/videos")
    markdown: str = Field(description="the same as a Markdown script ('script')")


@router.post(
    "",
    response_model=ScriptOut,
    responses=responses(401, 413, 422, 429, 502, 503),
    summary="Write a script from an idea (rule-based offline, or the configured language model)",
)
async def write_script(body: ScriptRequest, caller: CallerDep) -> Any:
    if not _writing.acquire(blocking=False):
        raise Unavailable(
            f"{MAX_WRITING_AT_ONCE} scripts are being written already",
            hint="retry in a few seconds",
            headers={"Retry-After": "5"},
        )
    try:
        written = await run_in_threadpool(
            reelforge.write_script,
            body.idea,
            language=body.language,
            template=body.template,
            seconds=body.seconds,
            engine=body.engine,
            max_scenes=body.max_scenes,
        )
    except EngineFailed as exc:
        raise WriterFailed(exc.message, hint=exc.hint) from None
    finally:
        _writing.release()
    return ScriptOut(
        engine=written.engine,
        model=written.model,
        attempts=written.attempts,
        notes=list(written.notes),
        storyboard=written.fields,
        markdown=written.markdown,
    )
