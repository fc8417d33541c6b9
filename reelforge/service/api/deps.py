"""Dependencies shared by the routers (``Annotated`` aliases, full-stack-fastapi-template style)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from reelforge.service import auth
from reelforge.service.api.problems import TooManyRequests, Unauthorized
from reelforge.service.api.settings import ApiSettings
from reelforge.service.jobs import JobService


def get_service(request: Request) -> JobService:
    service: JobService = request.app.state.service
    return service


def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


ServiceDep = Annotated[JobService, Depends(get_service)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rf_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key: rf_...")


@dataclass(frozen=True)
class Caller:
    """Who is calling: the owner every job and upload is scoped to."""

    owner: str
    key_id: str | None  # None in open mode without a key
    jobs_per_day: int  # 0 = unlimited
    admin: bool = False  # may see server details (health internals, metrics)


_AUTH_HINT = (
    "send 'Authorization: Bearer rf_...' or 'X-API-Key: rf_...'; create a key with "
    "`reelforge keys create NAME`"
)


def optional_caller(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header)],
) -> Caller | None:
    """The caller when a key is sent (or in open mode, where the one local user is also the
    operator), None for an anonymous caller; a wrong key is still a 401."""
    given = header_key or (bearer.credentials if bearer is not None else None)
    if not given:
        if settings.open_mode:
            return Caller(settings.open_owner, None, settings.jobs_per_day, admin=True)
        return None
    record = auth.find_api_key(service.db, given.strip())
    if record is None:
        raise Unauthorized(
            "the API key is unknown or revoked",
            hint=_AUTH_HINT,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    _take_token(
        request,
        record.id,
        record.rate_per_minute,
        f"rate limit of {record.rate_per_minute or settings.rate_per_minute:g} requests a "
        "minute exceeded for this key",
        "; use GET /api/jobs/{id}/events instead of polling",
    )
    auth.touch(service.db, record.id)
    quota = record.jobs_per_day if record.jobs_per_day is not None else settings.jobs_per_day
    return Caller(record.owner, record.id, quota, admin=bool(record.admin))


def authenticate(caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    """The caller of an authenticated endpoint; applies the per-key rate limit."""
    if caller is None:
        raise Unauthorized(
            "this endpoint needs an API key",
            hint=_AUTH_HINT,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return caller


def limit_anonymous(
    request: Request,
    settings: SettingsDep,
    caller: Annotated[Caller | None, Depends(optional_caller)],
) -> Caller | None:
    """For endpoints open to anyone: a caller with a key is rate-limited as a key; one without
    is rate-limited by client address, so nobody can make the server work without limit."""
    if caller is not None:
        return caller
    address = request.client.host if request.client is not None else "unknown"
    _take_token(
        request,
        f"anonymous:{address}",
        settings.anonymous_rate_per_minute,
        "too many requests without an API key from this address",
        ", or send an API key",
    )
    return None


def _take_token(
    request: Request, bucket: str, per_minute: float | None, message: str, advice: str
) -> None:
    """Take one token from ``bucket``'s rate limit, or refuse with 429 and Retry-After (the
    hint is "retry in N s" followed by ``advice``)."""
    limiter: auth.RateLimiter = request.app.state.limiter
    wait = limiter.take(bucket, per_minute)
    if wait > 0:
        raise TooManyRequests(
            message,
            hint=f"retry in {wait:.1f} s{advice}",
            headers={"Retry-After": str(max(1, int(wait + 0.999)))},
        )


CallerDep = Annotated[Caller, Depends(authenticate)]
OptionalCallerDep = Annotated[Caller | None, Depends(optional_caller)]
LimitedCallerDep = Annotated[Caller | None, Depends(limit_anonymous)]
