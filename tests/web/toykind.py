"""Toy job kinds with their own submit routes, for the studio's generic pages: they reach the
page only through the OpenAPI document, like any kind that lands later (clips, talking...).
``toy`` makes a text and pictures; ``ranks`` makes ranked results described by a JSON manifest
(rank, score, reasons per item, and numbered outputs per item), shaped like the clips kind's."""

from __future__ import annotations

import json
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


class RanksRequest(JobRequest):
    count: int = Field(3, ge=1, le=4, description="how many ranked results")


REASONS = ["a strong hook", "a complete thought", "names the topic", "laughter", "a question"]


def run_ranks(
    request: RanksRequest, workdir: Path, progress: Progress, *, cache_dir: Path | None = None
) -> KindResult:
    files: dict[str, Path] = {}
    items = []
    for rank in range(1, request.count + 1):
        progress("rank", rank / request.count)
        picture = workdir / f"shot-{rank}.png"
        Image.new("RGB", (180, 320), (40 * rank, 90, 200 - 40 * rank)).save(picture)
        files[f"shot-{rank}"] = picture
        note = workdir / f"shot-{rank}.txt"
        note.write_text(f"what was said in moment {rank}", encoding="utf-8")
        files[f"shot-{rank}.txt"] = note
        items.append(
            {
                "rank": rank,
                "title": f"Moment {rank}",
                "score": round(0.9 - 0.15 * rank, 2),
                "reasons": REASONS[rank - 1 : rank + 1],
                "start": 10.0 * rank,
                "end": 10.0 * rank + 7.5,
                "text": f"what was said in moment {rank}",
            }
        )
    manifest = workdir / "ranks.json"
    # Listed worst first: the page ranks them itself.
    manifest.write_text(json.dumps({"source": "toy", "clips": items[::-1]}), encoding="utf-8")
    files["manifest"] = manifest
    return KindResult(files)


RANKS = JobKind(
    name="ranks",
    request=RanksRequest,
    run=run_ranks,
    outputs={
        **{
            name: output
            for rank in range(1, 5)
            for name, output in (
                (f"shot-{rank}", Output(f"shot-{rank}.png", "image/png", f"shot-{rank}", False)),
                (
                    f"shot-{rank}.txt",
                    Output(f"shot-{rank}.txt", "text/plain", f"shot-{rank}-words", False),
                ),
            )
        },
        "manifest": Output("ranks.json", "application/json", "manifest"),
    },
    workload=lambda request: Workload(seconds=1.0),
)


ranks_router = APIRouter(prefix="/api/ranks", tags=["ranks"])


@ranks_router.post("", status_code=202, summary="Rank some toy moments")
async def create_ranks(
    body: RanksRequest, service: ServiceDep, caller: CallerDep
) -> dict[str, Any]:
    job = await run_in_threadpool(service.submit, "ranks", body, owner=caller.owner)
    return {"id": job.id, "status": job.status}
