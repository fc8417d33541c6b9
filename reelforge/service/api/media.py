"""``POST /api/media``: upload an image, sound or video for storyboards (``media:<id>``).

The size limit is enforced twice: a declared ``Content-Length`` over it is refused before a
byte of the body is read, and the body is counted while it streams in (chunked uploads, or a
client that lies), so an oversize upload never fills the disk. The type is sniffed from the
content by the service, and the file is stored before the response says it exists.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from reelforge.service.api.deps import CallerDep, ServiceDep, SettingsDep
from reelforge.service.api.problems import (
    ApiProblem,
    PayloadTooLarge,
    UnsupportedMediaType,
    responses,
)
from reelforge.service.api.schemas import MediaOut
from reelforge.service.models import Media
from reelforge.service.quotas import check_owner_quota, owner_usage

router = APIRouter(prefix="/api/media", tags=["media"], responses=responses(401, 429))

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file


class BadUpload(ApiProblem):
    status, slug, title = 400, "bad-upload", "Malformed upload"


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}


def _too_large(limit: int) -> ApiProblem:
    return PayloadTooLarge(
        f"the upload is larger than this server's limit of {limit} bytes",
        hint="compress or trim the file, or raise REELFORGE_UPLOAD_MAX_BYTES",
    )


@router.post(
    "",
    status_code=201,
    response_model=MediaOut,
    openapi_extra=_UPLOAD_BODY,
    responses=responses(400, 413, 415, 422, 507),
    summary="Upload an image, audio or video file (multipart field 'file')",
)
async def upload_media(
    request: Request, service: ServiceDep, settings: SettingsDep, caller: CallerDep
) -> Any:
    limit = int(settings.upload_max_bytes)
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            f"uploads are multipart/form-data, not {content_type or 'no Content-Type'}",
            hint="curl -F file=@picture.jpg .../api/media",
        )
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadUpload("Content-Length is not a number", hint="send a valid Content-Length")
        if int(declared) > limit + MULTIPART_OVERHEAD:
            raise _too_large(limit)

    async def counted() -> Any:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit + MULTIPART_OVERHEAD:
                raise _too_large(limit)
            yield chunk

    parser = MultiPartParser(request.headers, counted(), max_files=1, max_fields=4)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise BadUpload(
            f"the multipart body is malformed: {exc.message}",
            hint="send one file in a form field named 'file'",
        ) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadUpload(
                "no file in the form field 'file'", hint="curl -F file=@picture.jpg .../api/media"
            )
        if upload.size is not None and upload.size > limit:
            raise _too_large(limit)
        if not upload.size:
            raise BadUpload("the uploaded file is empty", hint="choose a non-empty file")
        await run_in_threadpool(
            check_owner_quota, service.db, service.storage, settings, caller.owner, upload.size
        )
        media = await run_in_threadpool(
            service.store_upload,
            caller.owner,
            _safe_name(upload.filename),
            upload.file,
            upload.content_type,
        )
    finally:
        await form.close()
    return _media_out(media)


class Usage(BaseModel):
    uploads_bytes: int
    results_bytes: int = Field(description="results of your completed jobs")
    used_bytes: int
    quota_bytes: int | None = Field(description="null: no per-owner quota")


@router.get(
    "/usage",
    response_model=Usage,
    summary="What your uploads and results take in storage, and your quota",
)
async def usage(service: ServiceDep, settings: SettingsDep, caller: CallerDep) -> Any:
    used = await run_in_threadpool(owner_usage, service.db, service.storage, caller.owner)
    return Usage(
        uploads_bytes=used["uploads"],
        results_bytes=used["results"],
        used_bytes=used["total"],
        quota_bytes=settings.owner_quota_bytes,
    )


MediaId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get(
    "/{media_id}",
    response_model=MediaOut,
    responses=responses(404, 422),
    summary="An upload's details",
)
async def get_media(media_id: MediaId, service: ServiceDep, caller: CallerDep) -> Any:
    media = await run_in_threadpool(service.get_media, media_id, owner=caller.owner)
    return _media_out(media)


@router.delete(
    "/{media_id}",
    status_code=204,
    responses=responses(404, 422),
    summary="Delete one of your uploads (jobs that already used it keep their results)",
)
async def delete_media(media_id: MediaId, service: ServiceDep, caller: CallerDep) -> Response:
    await run_in_threadpool(service.delete_media, media_id, owner=caller.owner)
    return Response(status_code=204)


def _media_out(media: Media) -> MediaOut:
    """An upload as the API shows it."""
    return MediaOut(**{k: v for k, v in media.to_dict().items() if k in MediaOut.model_fields})


def _safe_name(filename: str | None) -> str | None:
    """The client's file name, for display only: its last part, printable, at most 255."""
    if not filename:
        return None
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable())[:255]
    return name or None
