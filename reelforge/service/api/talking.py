"""``POST /api/talking`` and ``POST /api/podcasts``: lip-synced talking characters and
podcasts, queued through the same job-kinds seam as videos (202).

Portraits are ``media:<id>`` references to the caller's own image uploads only; every field is
bounded by the kind's request model and checked at submit (422).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import AnyHttpUrl, Field

from reelforge.kinds.podcast import PodcastRequest
from reelforge.kinds.talking import TalkingRequest
from reelforge.service.api.schemas import Accepted, Priority
from reelforge.service.api.submit import SUBMIT_ROUTE, SubmitterDep

router = APIRouter(tags=["talking"])
_SERVICE_FIELDS = {"priority", "webhook_url"}


class TalkingBody(TalkingRequest):
    """A talking character: ``script`` and ``character`` (built-in) or ``portrait``
    (media:<id>)."""

    priority: Priority = "medium"
    webhook_url: AnyHttpUrl | None = Field(None, description="POSTed when the job ends")


class PodcastBody(PodcastRequest):
    """A podcast: ``dialogue`` ('HOST: ...' lines), optional ``speakers``, ``layout``."""

    priority: Priority = "medium"
    webhook_url: AnyHttpUrl | None = Field(None, description="POSTed when the job ends")


def _kind_request(body: TalkingBody | PodcastBody) -> dict[str, Any]:
    """The kind's request in ``body``: all but where to deliver the job."""
    return body.model_dump(mode="json", exclude=_SERVICE_FIELDS)


@router.post(
    "/api/talking",
    summary="Make a lip-synced talking character video (queued; poll or stream the job)",
    **SUBMIT_ROUTE,
)
async def create_talking(body: TalkingBody, submitter: SubmitterDep) -> Accepted:
    return await submitter.submit("talking", body, _kind_request(body))


@router.post(
    "/api/podcasts",
    summary="Make a podcast video of a dialogue (queued; poll or stream the job)",
    **SUBMIT_ROUTE,
)
async def create_podcast(body: PodcastBody, submitter: SubmitterDep) -> Accepted:
    return await submitter.submit("podcast", body, _kind_request(body))
