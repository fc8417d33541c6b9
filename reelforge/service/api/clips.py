"""``POST /api/clips``: queue a clips job (202) for an uploaded talk.

The video is named only as ``media:<id>`` of the caller's own upload (no path, URL or
protocol string reaches ffmpeg); every option is bounded here and again by the kind's
request model (:class:`reelforge.kinds.clips.ClipsRequest`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from reelforge.kinds.clips import MAX_CLIPS
from reelforge.service.api.schemas import Accepted, Priority
from reelforge.service.api.submit import SUBMIT_ROUTE, SubmitterDep

router = APIRouter(prefix="/api/clips", tags=["clips"])


class ClipsBody(BaseModel):
    """A talk to cut into clips: an uploaded video and the options of ``reelforge clips``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"video": "media:0123456789abcdef0123456789abcdef", "count": 3, "format": "9:16"},
                {"video": "media:0123456789abcdef0123456789abcdef", "query": "pricing"},
            ]
        },
    )

    video: str = Field(
        pattern=r"^media:[0-9a-f]{32}(\.[A-Za-z0-9]{1,5})?$",
        description="media:<id> of an uploaded video (POST /api/media)",
    )
    count: int = Field(5, ge=1, le=MAX_CLIPS, description="how many clips, best first")
    format: Literal["9:16", "1:1", "4:5"] = "9:16"
    min: float = Field(20.0, ge=1, le=600, description="shortest clip, seconds")
    max: float = Field(60.0, ge=1, le=600, description="longest clip, seconds")
    query: str | None = Field(None, min_length=1, max_length=200, description="a topic")
    start: float | None = Field(None, ge=0, le=86_400, description="one clip of a span: start")
    end: float | None = Field(None, gt=0, le=86_400, description="... and end, seconds")
    captions: Literal["plain", "bold", "karaoke", "highlight", "boxed", "none"] = "bold"
    resolution: int = Field(720, ge=240, le=1080, description="the clips' short side")
    language: str | None = Field(None, min_length=2, max_length=16, pattern=r"^[A-Za-z-]+$")
    model: Literal["", "tiny.en", "base"] = ""
    priority: Priority = "medium"
    webhook_url: AnyHttpUrl | None = Field(
        None, description="POSTed (HMAC-signed) when the job completes or fails"
    )
    preview: bool = Field(False, description="small clips (360 px), to check the choice")
    queue: Literal["cpu", "gpu"] = "cpu"

    def to_request(self, video: str) -> dict[str, Any]:
        return {
            "video": video,
            "count": self.count,
            "format": self.format,
            "min_s": self.min,
            "max_s": self.max,
            "query": self.query,
            "start_s": self.start,
            "end_s": self.end,
            "captions": self.captions,
            "resolution": self.resolution,
            "language": self.language,
            "model": self.model,
            "preview": self.preview,
            "queue": self.queue,
        }


@router.post(
    "",
    summary="Cut an uploaded talk into ranked, captioned vertical clips (queued)",
    **SUBMIT_ROUTE,
)
async def create_clips(body: ClipsBody, submitter: SubmitterDep) -> Accepted:
    service, owner = submitter.service, submitter.caller.owner
    return await submitter.submit(
        "clips",
        body,
        lambda: body.to_request(service.media_reference("video", body.video, owner)),
    )
