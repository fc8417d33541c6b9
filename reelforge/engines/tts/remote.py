"""One HTTP request to a remote voice service, every failure an error that says what to do.

Not an engine: the OpenAI-compatible speech and ElevenLabs adapters share it. Only the endpoint
in the settings is ever called (a request never names one); proxies and certificates come from
the settings too (``trust_env=False``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import httpx

from reelforge.errors import EngineFailed, EngineUnavailable

MAX_ANSWER_BYTES = 200 * 1024 * 1024  # ~70 minutes of 24 kHz 16-bit speech


@dataclass(frozen=True)
class Service:
    """Who is called, and the settings a user changes when it fails."""

    name: str  # "the OpenAI-compatible speech server"
    endpoint_setting: str  # "REELFORGE_OPENAI_SPEECH_ENDPOINT"
    key_setting: str  # "REELFORGE_OPENAI_SPEECH_API_KEY"


def base_url(endpoint: str, service: Service) -> str:
    """The endpoint without its trailing slash; EngineUnavailable when it is not http(s)."""
    if not endpoint:
        raise EngineUnavailable(
            f"{service.name} is not configured", hint=f"set {service.endpoint_setting}"
        )
    parsed = httpx.URL(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise EngineUnavailable(
            f"{service.endpoint_setting} {endpoint!r} is not an http(s) URL",
            hint="write it like http://127.0.0.1:8880/v1",
        )
    return endpoint.rstrip("/")


def post(
    service: Service,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    timeout_s: float,
    params: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    """POST ``body`` as JSON; the answer's bytes and content type."""
    try:
        with (
            httpx.Client(timeout=timeout_s, trust_env=False) as client,
            client.stream("POST", url, json=body, headers=headers, params=params) as response,
        ):
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_ANSWER_BYTES:
                    raise EngineFailed(
                        f"{service.name} at {url} answered more than {MAX_ANSWER_BYTES} bytes",
                        hint="narrate shorter scenes",
                    )
            status, kind = response.status_code, response.headers.get("content-type", "")
    except httpx.TimeoutException:
        raise EngineFailed(
            f"{service.name} at {url} did not answer within {timeout_s:g} s",
            hint="raise REELFORGE_SPEECH_TIMEOUT_S or narrate shorter scenes",
        ) from None
    except httpx.TransportError as error:
        raise EngineUnavailable(
            f"cannot reach {service.name} at {url}: {error}",
            hint=f"start the server or fix {service.endpoint_setting}",
        ) from None
    if status >= 400:
        raise _refusal(service, url, status, data)
    return data, kind


def _refusal(service: Service, url: str, status: int, data: bytes) -> Exception:
    said = data.decode("utf-8", "replace")
    try:
        found = json.loads(said)
        error = found.get("error") or found.get("detail") or found
        if isinstance(error, dict):
            said = str(error.get("message") or error.get("status") or error)
        else:
            said = str(error)
    except (ValueError, AttributeError):
        pass
    said = " ".join(said.split())[:300]
    message = f"{service.name} at {url} refused the request (HTTP {status}): {said}"
    if status in (401, 403):
        return EngineUnavailable(message, hint=f"set {service.key_setting} to a valid key")
    if status == 404:
        return EngineUnavailable(
            message, hint=f"check {service.endpoint_setting} and the voice name or id"
        )
    if status == 429 or status >= 500:
        return EngineFailed(message, hint="the service is busy or failing: try again later")
    return EngineFailed(message, hint="check the voice, model and text the request sent")


def client_version() -> str:
    try:
        return f"httpx {metadata.version('httpx')}"
    except metadata.PackageNotFoundError:
        return "httpx"
