"""``POST /api/storyboards/validate``: a storyboard written as YAML or JSON text, parsed and
checked exactly as ``POST /api/videos`` would check it, and its scenes as the planner will see
them. The studio sends an uploaded ``.yaml``/``.json`` file here (no YAML parser in the page),
shows the scenes, and submits the returned fields as the video's ``storyboard``.

Public like ``POST /api/pricing`` (which validates a whole request too): a key is limited as
that key, an anonymous caller per address. YAML anchors and aliases are refused, nesting is
bounded, and the text is at most 200,000 characters (inside the body limit).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

import reelforge
from reelforge.service.api.deps import LimitedCallerDep, ServiceDep
from reelforge.service.api.problems import responses
from reelforge.service.api.schemas import VideoRequest

router = APIRouter(prefix="/api/storyboards", tags=["storyboards"])


class StoryboardText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=200_000, description="the storyboard file's text")
    syntax: Literal["yaml", "json"] = Field("yaml", description="how it is written")


class ScenePreview(BaseModel):
    title: str | None = None
    narration: str
    visual: str | None = Field(None, description="the scene's picture or clip (media:<id>)")
    duration: float | None = None


class StoryboardCheck(BaseModel):
    storyboard: dict[str, Any] = Field(
        description="the storyboard's fields: send them as POST /api/videos's storyboard"
    )
    title: str
    scenes: list[ScenePreview]
    duration_s: float = Field(description="estimated length of the video, seconds")


@router.post(
    "/validate",
    response_model=StoryboardCheck,
    responses=responses(413, 422, 429),
    summary="Parse and check a YAML or JSON storyboard as a video request would; its scenes",
)
async def validate_storyboard(
    body: StoryboardText, service: ServiceDep, caller: LimitedCallerDep
) -> Any:
    return await run_in_threadpool(_check, service, body)


def _check(service: Any, body: StoryboardText) -> StoryboardCheck:
    fields = reelforge.read_storyboard_text(
        body.text, body.syntax, source="the storyboard", aliases=False
    )
    request = VideoRequest(storyboard=fields)  # bounded like a submitted one
    estimate = service.estimate(request.to_service())  # every check of a submit
    board = reelforge.parse_storyboard(fields)
    scenes = [
        ScenePreview(
            title=scene.title,
            narration=scene.narration,
            visual=scene.visual.path if scene.visual is not None else None,
            duration=scene.duration,
        )
        for scene in board.scenes
    ]
    return StoryboardCheck(
        storyboard=fields, title=board.title, scenes=scenes, duration_s=estimate["duration_s"]
    )
