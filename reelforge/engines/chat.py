"""The client of an OpenAI-compatible chat-completions server, shared by the engines that ask
a language model (the story writer, the caption translator). Not an engine itself.

The endpoint, model, key and timeout come from the settings (``REELFORGE_LLM_*``), never from
a request. The wire format is the documented ``POST {endpoint}/chat/completions``: a body of
``model``, ``messages`` (``system``/``user``/``assistant`` roles), ``temperature`` and
``response_format``; the answer's ``choices[0].message.content`` holds the text and
``choices[0].finish_reason`` says whether it was cut off. Every failure is an error that says
what to set or start; ``offline`` is the engine's own way out (another engine to use).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar

import httpx

from reelforge.engines.base import EngineInfo
from reelforge.errors import EngineFailed, EngineUnavailable
from reelforge.settings import Settings, get_settings

MAX_ANSWER_BYTES = 1_000_000  # a storyboard or a batch of captions is a few kilobytes


@dataclass(frozen=True)
class Completion:
    content: str  # the assistant message's text
    finish: str  # "stop", or "length" when the answer was cut off
    model: str  # the model the server says answered ("" when it does not say)


class ChatEngine:
    """What an engine behind a chat server has: its settings (given, or the process's read at
    each call) and an ``info`` saying whether an endpoint is configured."""

    name: ClassVar[str]
    kind: ClassVar[str]  # the registry kind: "writer", "translation"
    version: ClassVar[str]

    def __init_subclass__(cls, *, kind: str, version: str, **options: Any) -> None:
        super().__init_subclass__(**options)
        cls.kind, cls.version = kind, version

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings  # None: the process's settings, read at each call

    def _config(self) -> Settings:
        return self._settings if self._settings is not None else get_settings()

    def info(self) -> EngineInfo:
        if not self._config().llm_endpoint:
            reason = (
                "no endpoint configured: set REELFORGE_LLM_ENDPOINT (and REELFORGE_LLM_MODEL) "
                "to an OpenAI-compatible server's /v1 URL"
            )
            return EngineInfo(self.name, self.kind, self.version, available=False, reason=reason)
        return EngineInfo(self.name, self.kind, self.version)


class ChatClient:
    """One conversation's connection to ``settings.llm_endpoint``; use it as a context manager."""

    def __init__(self, settings: Settings, offline: str) -> None:
        self.settings = settings
        self.offline = offline
        self.url = completions_url(settings.llm_endpoint, offline)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if settings.llm_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
        # trust_env=False: proxies and certificates come from the settings, not the environment
        self.client = httpx.Client(timeout=settings.llm_timeout_s, headers=headers, trust_env=False)

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.client.close()

    def complete(
        self, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> Completion:
        """The server's answer to ``messages``, asked to match JSON Schema ``schema`` the way
        ``REELFORGE_LLM_RESPONSE_FORMAT`` says."""
        answer = self._post(_body(self.settings, messages, schema_name, schema))
        return _completion(answer)

    def _post(self, body: dict[str, Any]) -> Any:
        """The server's JSON answer; every failure an error saying what to do."""
        url, settings = self.url, self.settings
        try:
            with self.client.stream("POST", url, json=body) as response:
                data = b""
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_ANSWER_BYTES:
                        raise EngineFailed(
                            f"the language model at {url} answered more than "
                            f"{MAX_ANSWER_BYTES} bytes",
                            hint="check REELFORGE_LLM_ENDPOINT points at a chat-completions server",
                        )
                status = response.status_code
        except httpx.TimeoutException:
            raise EngineFailed(
                f"the language model at {url} did not answer within {settings.llm_timeout_s:g} s",
                hint="raise REELFORGE_LLM_TIMEOUT_S, use a smaller model, or " + self.offline,
            ) from None
        except httpx.TransportError as exc:
            raise EngineUnavailable(
                f"cannot reach the language model at {url}: {exc}",
                hint="start the server (llama.cpp: llama-server -m model.gguf --port 8080) or fix "
                "REELFORGE_LLM_ENDPOINT; " + self.offline,
            ) from None
        if status >= 400:
            raise _http_error(status, data, url, settings)
        try:
            return json.loads(data)
        except ValueError:
            raise EngineFailed(
                f"the server at {url} did not answer JSON (HTTP {status})",
                hint="check REELFORGE_LLM_ENDPOINT ends in /v1 of an OpenAI-compatible server",
            ) from None


def completions_url(endpoint: str, offline: str) -> str:
    """``{endpoint}/chat/completions``, or an error saying how to set the endpoint."""
    if not endpoint:
        raise EngineUnavailable(
            "no language model endpoint is configured",
            hint="set REELFORGE_LLM_ENDPOINT to an OpenAI-compatible server's /v1 URL "
            "(e.g. http://127.0.0.1:8080/v1 for llama.cpp) and REELFORGE_LLM_MODEL; " + offline,
        )
    parsed = httpx.URL(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise EngineUnavailable(
            f"REELFORGE_LLM_ENDPOINT {endpoint!r} is not an http(s) URL",
            hint="write it like http://127.0.0.1:8080/v1 or https://api.openai.com/v1",
        )
    base = endpoint.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


def _body(
    settings: Settings, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messages": messages,
        "temperature": settings.llm_temperature,
        "stream": False,
    }
    if settings.llm_model:
        body["model"] = settings.llm_model
    if settings.llm_response_format == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "schema": schema, "strict": False},
        }
    elif settings.llm_response_format == "json_object":
        body["response_format"] = {"type": "json_object"}
    return body


def _http_error(status: int, data: bytes, url: str, settings: Settings) -> Exception:
    said = data.decode("utf-8", "replace")
    try:
        error = json.loads(said).get("error", said)
        said = error.get("message", said) if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):
        pass
    said = " ".join(said.split())[:300]
    message = f"the language model at {url} refused the request (HTTP {status}): {said}"
    if status in (401, 403):
        return EngineUnavailable(message, hint="set REELFORGE_LLM_API_KEY to a valid key")
    if status == 404:
        return EngineUnavailable(
            message,
            hint="REELFORGE_LLM_ENDPOINT must be the base URL ending in /v1, and "
            f"REELFORGE_LLM_MODEL ({settings.llm_model or 'not set'}) a model the server has",
        )
    lowered = said.lower()
    if status in (400, 422) and ("response_format" in lowered or "schema" in lowered):
        return EngineFailed(
            message,
            hint="this server does not take JSON-schema answers: set "
            "REELFORGE_LLM_RESPONSE_FORMAT=json_object (or none)",
        )
    if status == 429 or status >= 500:
        return EngineFailed(message, hint="the server is busy or failing: try again later")
    return EngineFailed(message, hint="check REELFORGE_LLM_MODEL and the server's log")


def _completion(answer: Any) -> Completion:
    """The text, finish reason and model of a chat-completions answer."""
    try:
        choice = answer["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise EngineFailed(
            "the server's answer is not a chat completion (no choices[0].message.content)",
            hint="check REELFORGE_LLM_ENDPOINT points at an OpenAI-compatible /v1 server",
        ) from None
    model = answer.get("model") if isinstance(answer.get("model"), str) else ""
    return Completion(str(content or ""), str(choice.get("finish_reason") or ""), model)
