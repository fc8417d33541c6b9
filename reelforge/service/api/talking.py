"""``POST /api/talking`` and ``POST /api/podcasts``: lip-synced talking characters and
podcasts, queued through the same job-kinds seam as videos (202).

Portraits are ``media:<id>`` references to the caller's own image uploads only; every field is
bounded by the kind's request model and checked at submit (422).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AnyHttpUrl, Field

from reelforge.kinds.podcast import PodcastRequest
from reelforge.kinds.talking import TalkingRequest
from reelforge.service.api.deps import CallerDep, ServiceDep
from reelforge.service.api.problems import responses
from reelforge.service.api.schemas import Accepted, Priority
from reelforge.service.api.submit import queue_job
from reelforge.service.quotas import check_owner_quota

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


async def _submit(
    kind: str,
    body: TalkingBody | PodcastBody,
    request: Request,
    response: Response,
    service: Any,
    caller: Any,
) -> Accepted:
    await run_in_threadpool(
        check_owner_quota, service.db, service.storage, service.settings, caller.owner, 1
    )
    return await queue_job(
        lambda: service.submit(
            kind,
            body.model_dump(mode="json", exclude=_SERVICE_FIELDS),
            owner=caller.owner,
            priority=body.priority,
            webhook_url=str(body.webhook_url) if body.webhook_url else None,
        ),
        request,
        response,
        service,
        caller,
    )


@router.post(
    "/api/talking",
    status_code=202,
    response_model=Accepted,
    responses=responses(401, 413, 422, 429, 507),
    summary="Make a lip-synced talking character video (queued; poll or stream the job)",
)
async def create_talking(
    body: TalkingBody,
    request: Request,
    response: Response,
    service: ServiceDep,
    caller: CallerDep,
) -> Any:
    return await _submit("talking", body, request, response, service, caller)


@router.post(
    "/api/podcasts",
    status_code=202,
    response_model=Accepted,
    responses=responses(401, 413, 422, 429, 507),
    summary="Make a podcast video of a dialogue (queued; poll or stream the job)",
)
async def create_podcast(
    body: PodcastBody,
    request: Request,
    response: Response,
    service: ServiceDep,
    caller: CallerDep,
) -> Any:
    return await _submit("podcast", body, request, response, service, caller)
