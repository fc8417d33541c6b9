"""RFC 7807 problem details: the only place the API turns errors into HTTP responses.

Every error the API answers with is ``application/problem+json``:
``{"type", "title", "status", "detail", "hint"}`` plus, for validation errors, ``errors``
naming each bad field. Library errors (the ``ReelforgeError`` tree) map to a status by class;
the API's own refusals are ``ApiProblem`` subclasses that carry their status.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reelforge import errors
from reelforge.errors import ReelforgeError

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:reelforge:problem:"
log = logging.getLogger("reelforge.api")
OWNER_QUOTA = "quota-exceeded"

# status -> (slug, title): the API's own refusals and the slug of any status it answers with.
_STATUSES: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Missing or invalid API key"),
    403: ("forbidden", "Not allowed for this API key"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method Not Allowed"),
    406: ("not-acceptable", "Not Acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    416: ("range-not-satisfiable", "Range not satisfiable"),
    422: ("validation-error", "Validation failed"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal error"),
    503: ("unavailable", "Service unavailable"),
    507: ("storage-full", "Insufficient storage"),
}


class ApiProblem(ReelforgeError):
    """A refusal by the API itself; ``status`` is its HTTP status."""

    status = 400
    slug = "bad-request"
    title = "Bad request"
    exit_code = 8

    def __init__(self, message: str, hint: str = "", headers: dict[str, str] | None = None):
        super().__init__(message, hint)
        self.headers = headers or {}


def _refusal(name: str, status: int) -> type[ApiProblem]:
    """The ApiProblem subclass ``name`` answering ``status`` with its slug and title."""
    slug, title = _STATUSES[status]
    fields = {"status": status, "slug": slug, "title": title, "__module__": __name__}
    return type(name, (ApiProblem,), fields)


Unauthorized = _refusal("Unauthorized", 401)
Forbidden = _refusal("Forbidden", 403)
NotFound = _refusal("NotFound", 404)
Conflict = _refusal("Conflict", 409)
PayloadTooLarge = _refusal("PayloadTooLarge", 413)
UnsupportedMediaType = _refusal("UnsupportedMediaType", 415)
RangeNotSatisfiable = _refusal("RangeNotSatisfiable", 416)
TooManyRequests = _refusal("TooManyRequests", 429)
Unavailable = _refusal("Unavailable", 503)

# Library errors: the first class in this order that matches decides (subclasses first).
_LIBRARY: tuple[tuple[type[ReelforgeError], int, str, str], ...] = (
    (errors.SpecError, 422, "invalid-spec", "Invalid script or storyboard"),
    (errors.MediaError, 422, "invalid-media", "Invalid media"),
    (errors.EngineUnavailable, 422, "engine-unavailable", "Engine not available here"),
    (errors.EngineFailed, 500, "engine-failed", "Engine failed"),
    (errors.RenderError, 500, "render-failed", "Render failed"),
    (errors.JobError, 409, "job-error", "Job error"),
    (ReelforgeError, 400, "error", "Request failed"),
)


def _service_errors() -> tuple[tuple[type[ReelforgeError], int, str, str], ...]:
    """The service core's error classes, checked before their library bases."""
    from reelforge.service.jobs import JobConflict, JobNotFound, UnsupportedMedia, UploadTooLarge

    pairs = ((JobNotFound, 404), (JobConflict, 409), (UploadTooLarge, 413), (UnsupportedMedia, 415))
    return tuple((cls, status, *_STATUSES[status]) for cls, status in pairs)


def status_for(error: ReelforgeError) -> tuple[int, str, str]:
    """(status, slug, title) for a library or API error."""
    if isinstance(error, ApiProblem):
        return error.status, error.slug, error.title
    from reelforge.service.quotas import OwnerQuotaExceeded
    from reelforge.service.storage import StorageError

    if isinstance(error, OwnerQuotaExceeded):
        return 507, OWNER_QUOTA, "Storage quota exceeded"
    if isinstance(error, StorageError):
        if "quota" in error.message.lower():
            return 507, "storage-full", "Insufficient storage"
        return 503, "storage-unavailable", "Storage unavailable"
    for cls, status, slug, title in (*_service_errors(), *_LIBRARY):
        if isinstance(error, cls):
            return status, slug, title
    return 400, "error", "Request failed"  # unreachable: ReelforgeError is last


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str = "",
    hint: str = "",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + (slug or _slug_for_status(status)),
        "title": title,
        "status": status,
        "detail": detail,
        "hint": hint,
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _slug_for_status(status: int) -> str:
    return _STATUSES[status][0] if status in _STATUSES else f"http-{status}"


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """("body", "storyboard", "scenes", 0) -> "storyboard.scenes.0" (the source is kept apart)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "(body)"


def validation_problem(errors: list[dict[str, Any]], *, detail_prefix: str = "") -> JSONResponse:
    """422 naming every bad field: ``errors: [{field, in, message, type}]``."""
    items = []
    for err in errors:
        loc = list(err.get("loc", ()))
        where = str(loc[0]) if loc and loc[0] in ("body", "query", "path", "header") else "body"
        items.append(
            {
                "field": _field_name(loc),
                "in": where,
                "message": str(err.get("msg", "invalid value")),
                "type": str(err.get("type", "value_error")),
            }
        )
    named = "; ".join(f"{i['field']}: {i['message']}" for i in items[:5])
    more = f" (and {len(items) - 5} more)" if len(items) > 5 else ""
    return problem(
        422,
        "Validation failed",
        f"{detail_prefix}{named}{more}",
        slug="validation-error",
        hint="fix the fields listed in 'errors'; GET /openapi.json documents every field",
        errors=items,
    )


async def _reelforge_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReelforgeError)
    status, slug, title = status_for(exc)
    if status >= 500 and slug != OWNER_QUOTA:  # a tenant's own limit is not a server fault
        log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    headers = exc.headers if isinstance(exc, ApiProblem) else None
    message, hint = exc.message, exc.hint
    if slug == "storage-full":  # the server's totals and keys are not a tenant's business
        message = "the server's storage is full"
        hint = "try again later; the operator has been told (the server log has the details)"
    return problem(status, title, message, slug=slug, hint=hint, headers=headers)


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(list(exc.errors()))


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    hints = {
        404: "check the address; GET /docs lists every endpoint",
        405: "check the HTTP method; GET /docs lists every endpoint",
    }
    return problem(
        exc.status_code,
        _title(exc.status_code),
        detail,
        hint=hints.get(exc.status_code, ""),
        headers=dict(exc.headers or {}),
    )


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    # Never a traceback to the client; the log keeps it.
    log.exception("unhandled error in %s %s", request.method, request.url.path)
    return problem(
        500,
        "Internal error",
        "the server failed to handle this request",
        slug="internal-error",
        hint="retry later; the server log has the details",
    )


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def install(app: FastAPI) -> None:
    """Register the handlers that make every error a problem+json response."""
    app.add_exception_handler(ReelforgeError, _reelforge_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unhandled_handler)


def _strings(*names: str) -> dict[str, Any]:
    return {name: {"type": "string"} for name in names}


# For OpenAPI: the shape of every error response.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **_strings("type", "title"),
        "status": {"type": "integer"},
        **_strings("detail", "hint"),
        "errors": {
            "type": "array",
            "items": {"type": "object", "properties": _strings("field", "in", "message", "type")},
        },
    },
    "required": ["type", "title", "status", "detail"],
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem+json for ``statuses``."""
    return {
        s: {"description": _title(s), "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
        for s in statuses
    }
