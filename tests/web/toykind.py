"""A toy job kind with its own submit route, for the studio's generic-form test: it reaches the
page only through the OpenAPI document, like any kind that lands later (clips, talking...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from PIL import Image
from pydantic import Field

from reelforge.kinds import JobKind, JobRequest, KindResult, Output, Progress, Workload
from reelforge.service.api.deps import CallerDep, ServiceDep


class ToyRequest(JobRequest):
    text: str = Field(min_length=1, max_length=200, description="what the toy writes")
    colour: str = Field("#3366cc", pattern=r"^#[0-9a-fA-F]{6}$", description="picture colour")
    copies: int = Field(1, ge=1, le=3, description="how many pictures")


def run_toy(
    request: ToyRequest, workdir: Path, progress: Progress, *, cache_dir: Path | None = None
) -> KindResult:
    files: dict[str, Path] = {}
    text = workdir / "toy.txt"
    text.write_text(request.text, encoding="utf-8")
    files["text"] = text
    for index in range(request.copies):
        progress("draw", (index + 1) / request.copies)
        picture = workdir / f"toy{index}.png"
        Image.new("RGB", (160, 90), request.colour).save(picture)
        files[f"picture{index}"] = picture
    return KindResult(files)


TOY = JobKind(
    name="toy",
    request=ToyRequest,
    run=run_toy,
    outputs={
        "text": Output("toy.txt", "text/plain", "text"),
        **{
            f"picture{i}": Output(f"toy{i}.png", "image/png", f"picture{i}", required=False)
            for i in range(3)
        },
    },
    workload=lambda request: Workload(seconds=1.0),
)

router = APIRouter(prefix="/api/toys", tags=["toys"])


@router.post("", status_code=202, summary="Make a toy: a text file and some pictures")
async def create_toy(body: ToyRequest, service: ServiceDep, caller: CallerDep) -> dict[str, Any]:
    job = await run_in_threadpool(service.submit, "toy", body, owner=caller.owner)
    return {"id": job.id, "status": job.status}
