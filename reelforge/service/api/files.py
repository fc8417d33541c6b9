"""Downloads of a completed job's results, with HTTP range requests so players can seek.

The name is a download name of the job's kind (``video``, ``captions.srt``...; its output
table in :mod:`reelforge.kinds`), mapped to the job's result keys by the service: no part of
the URL ever becomes a path. A store that can hand out
direct URLs (S3, presigned) gets a redirect; otherwise the API streams the bytes itself.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi import Path as PathParameter
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import RedirectResponse, StreamingResponse

from reelforge.service.api import signing
from reelforge.service.api.deps import OptionalCallerDep, ServiceDep, SettingsDep
from reelforge.service.api.jobs import JobId
from reelforge.service.api.problems import ApiProblem, RangeNotSatisfiable, Unauthorized, responses

router = APIRouter(prefix="/api/jobs", tags=["files"])

FileName = Annotated[
    str,
    PathParameter(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_-]*(\.[a-z0-9_]+){0,2}$",
        description="a download name of the job's kind: video, thumbnail, manifest, "
        "captions.srt, captions.vtt, captions.ass, captions.json for a video, and "
        "captions.fr.srt, captions.fr.vtt... for its caption translations",
    ),
]
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.I)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte positions of a single-range ``Range`` header, or None to send
    the whole file (no header, several ranges, or one that is malformed: RFC 9110 lets a server
    ignore those). Raises :class:`RangeNotSatisfiable` when the range lies outside the file."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # "bytes=-N": the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # syntactically invalid: ignored
    if first >= size:
        raise _unsatisfiable(size)
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1)


def _unsatisfiable(size: int) -> ApiProblem:
    return RangeNotSatisfiable(
        f"the requested range is outside the file ({size} bytes)",
        hint=f"ask for bytes 0-{max(size - 1, 0)}",
        headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
    )


_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the whole file", "content": {"application/octet-stream": {}}},
    206: {"description": "the requested byte range", "content": {"application/octet-stream": {}}},
    307: {"description": "redirect to a direct (presigned) download URL"},
    **responses(401, 403, 404, 409, 416, 422, 429),
}
_FILE_SUMMARY = "Download a result: video, thumbnail, manifest or captions (srt, vtt, ass, json)"


@router.get(
    "/{job_id}/files/{name}",
    response_class=Response,
    responses=_FILE_RESPONSES,
    summary=_FILE_SUMMARY,
    operation_id="download_file",
)
@router.head(
    "/{job_id}/files/{name}",
    response_class=Response,
    responses=_FILE_RESPONSES,
    summary="Size and type of a result (HEAD)",
    operation_id="head_file",
)
async def download(
    job_id: JobId,
    name: FileName,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    caller: OptionalCallerDep,
    range_header: Annotated[str | None, Header(alias="Range", max_length=200)] = None,
    if_range: Annotated[str | None, Header(alias="If-Range", max_length=200)] = None,
    token: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=r"^[0-9]{1,12}\.[A-Za-z0-9_-]{1,64}$",
            description="a signed link's token (the job's links.signed), instead of an API key",
        ),
    ] = None,
) -> Response:
    owner: str | None
    if caller is not None:
        owner = caller.owner
    elif token is not None:
        owner = await run_in_threadpool(_token_owner, service, settings, job_id, name, token)
    else:
        raise Unauthorized(
            "this download needs an API key or a signed link",
            hint="send 'Authorization: Bearer rf_...', or use the job's links.signed",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key, output = await run_in_threadpool(service.download, job_id, name, owner=owner)
    media_type = output.content_type
    storage = service.storage
    url = await run_in_threadpool(storage.url, key, settings.download_url_expires_s)
    if url:
        return RedirectResponse(url, status_code=307)
    size = int(await run_in_threadpool(storage.size, key))
    etag = '"' + hashlib.sha256(f"{key}:{size}".encode()).hexdigest()[:32] + '"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Content-Disposition": f'inline; filename="{job_id}{_extension(output.file)}"',
        "Cache-Control": "private, max-age=3600",
        # Results carry user text (captions, manifest): never run as a page in a browser.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    wanted = parse_range(range_header, size)
    if wanted is not None and if_range is not None and if_range.strip() != etag:
        wanted = None  # the client's copy is stale: send it all
    if wanted is None:
        first, last, status = 0, size - 1, 200
    else:
        (first, last), status = wanted, 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(max(0, last - first + 1))
    if request.method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers, media_type=media_type)
    chunks = await run_in_threadpool(storage.open_range, key, first, last)
    return StreamingResponse(
        iterate_in_threadpool(iter(chunks)),
        status_code=status,
        headers=headers,
        media_type=media_type,
    )


def _token_owner(service: Any, settings: Any, job_id: str, name: str, token: str) -> str | None:
    """The owner of job ``job_id`` when ``token`` opens its download ``name`` now; 404 for no
    such job (as for a key), 403 for a token that does not open this file."""
    job = service.get(job_id)
    signing.verify(signing.secret_for(settings), token, job_id, name, job.owner)
    owner: str | None = job.owner
    return owner


def _extension(file: str) -> str:
    """The file name's last extension (``.srt`` of ``video.srt``, ``.json`` of
    ``video.words.json``): what a saved download is called after the job id."""
    return "." + file.rsplit(".", 1)[-1]
