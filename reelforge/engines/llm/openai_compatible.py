"""A story writer behind any OpenAI-compatible chat-completions server.

OpenAI itself, a local llama.cpp server (``llama-server -m model.gguf --port 8080``), vLLM
(``vllm serve MODEL``) or Ollama's ``/v1``: the endpoint, model, key and timeout come from
the settings (``REELFORGE_LLM_*``), never from a request. The model is asked for one JSON
object matching the writer's part of the storyboard schema
(:func:`reelforge.spec.writing.writer_schema`); an answer that is not JSON or does not
validate is shown its problems and asked again, a bounded number of times.

The wire format is the documented ``POST {endpoint}/chat/completions``: a body of ``model``,
``messages`` (``system``/``user``/``assistant`` roles), ``temperature`` and
``response_format``; the answer's ``choices[0].message.content`` holds the text and
``choices[0].finish_reason`` says whether it was cut off.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx

from reelforge.engines.base import EngineInfo, WritingRequest, WrittenStoryboard
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.settings import Settings, get_settings
from reelforge.spec import writing
from reelforge.spec.templates import get_template

VERSION = "1"
MAX_ANSWER_BYTES = 1_000_000  # a storyboard of a few scenes is a few kilobytes
_OFFLINE_HINT = "offline, write with the rule-based writer: --engine rule-based"

SYSTEM_PROMPT = """\
You write scripts for short narrated videos (social media promos, stories, explainers).
Answer with ONE JSON object and nothing else: no prose, no Markdown fence. It must match \
this JSON Schema:
{schema}

Rules:
- Write the title, every scene title and every narration in {language_name} ({language}).
- {fewest} to {most} scenes. The first scene is a hook that makes people stay; the middle \
scenes give concrete, vivid details; the last scene is a clear call to action.
- About {words} words of narration in all (the video lasts {seconds:g} seconds, read at \
about 2.5 words a second); at most {per_scene} words in one scene.
- The narration is read aloud exactly as written: no emoji, hashtags, stage directions, \
brackets or lists.
- Scene titles are short on-screen titles (2 to 5 words).
- visual.prompt describes in English what the picture of the scene shows (subjects, \
setting, light, composition) for an image generator, without text or logos.
- Tone: {tone}
"""

FEEDBACK = """\
That answer cannot be used:
{problems}
Answer again with the whole corrected JSON object only."""


class OpenAICompatibleWriter:
    """Writes a storyboard with the chat-completions server of ``REELFORGE_LLM_ENDPOINT``."""

    name: ClassVar[str] = "openai-compatible"

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings  # None: the process's settings, read at each call

    def _config(self) -> Settings:
        return self._settings if self._settings is not None else get_settings()

    def info(self) -> EngineInfo:
        settings = self._config()
        if not settings.llm_endpoint:
            return EngineInfo(
                self.name,
                "writer",
                VERSION,
                available=False,
                reason="no endpoint configured: set REELFORGE_LLM_ENDPOINT (and "
                "REELFORGE_LLM_MODEL) to an OpenAI-compatible server's /v1 URL",
            )
        return EngineInfo(self.name, "writer", VERSION)

    def write(self, request: WritingRequest) -> WrittenStoryboard:
        settings = self._config()
        url = _completions_url(settings.llm_endpoint)
        fewest, most = writing.scene_range(request.seconds, request.max_scenes)
        schema = writing.writer_schema(most, fewest)
        messages: list[dict[str, str]] = [
            {"role": "system", "content": _system_prompt(request, schema, fewest, most)},
            {"role": "user", "content": request.idea.strip()},
        ]
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if settings.llm_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
        problems = ""
        # trust_env=False: proxies and certificates come from the settings, not the environment
        with httpx.Client(
            timeout=settings.llm_timeout_s, headers=headers, trust_env=False
        ) as client:
            for attempt in range(1, settings.llm_attempts + 1):
                body = _body(settings, messages, schema)
                answer = _post(client, url, body, settings)
                content, finish, model = _content(answer)
                try:
                    if finish == "length":
                        raise SpecError("the answer was cut off: write shorter narration")
                    fields, notes = writing.read_answer(
                        writing.answer_json(content),
                        language=request.language,
                        template=request.template,
                        seconds=request.seconds,
                        max_scenes=request.max_scenes,
                    )
                except SpecError as exc:
                    problems = exc.message
                    messages += [
                        {"role": "assistant", "content": content[:20_000]},
                        {"role": "user", "content": FEEDBACK.format(problems=problems)},
                    ]
                    continue
                return WrittenStoryboard(
                    storyboard=fields,
                    engine=self.name,
                    version=VERSION,
                    model=model or settings.llm_model,
                    attempts=attempt,
                    notes=tuple(notes),
                )
        raise EngineFailed(
            f"the language model's answer did not validate after {settings.llm_attempts} "
            f"attempts; the last one:\n{problems}",
            hint="try a larger model or raise REELFORGE_LLM_ATTEMPTS; " + _OFFLINE_HINT,
        )


def _completions_url(endpoint: str) -> str:
    if not endpoint:
        raise EngineUnavailable(
            "no language model endpoint is configured",
            hint="set REELFORGE_LLM_ENDPOINT to an OpenAI-compatible server's /v1 URL "
            "(e.g. http://127.0.0.1:8080/v1 for llama.cpp) and REELFORGE_LLM_MODEL; "
            + _OFFLINE_HINT,
        )
    parsed = httpx.URL(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise EngineUnavailable(
            f"REELFORGE_LLM_ENDPOINT {endpoint!r} is not an http(s) URL",
            hint="write it like http://127.0.0.1:8080/v1 or https://api.openai.com/v1",
        )
    base = endpoint.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


def _system_prompt(request: WritingRequest, schema: dict[str, Any], fewest: int, most: int) -> str:
    template = get_template(request.template or None)
    tone = template.description
    if request.template:
        tone += f" (the {template.name!r} template)"
    return SYSTEM_PROMPT.format(
        schema=json.dumps(schema, ensure_ascii=False),
        language=request.language,
        language_name=writing.language_name(request.language),
        fewest=fewest,
        most=most,
        words=writing.word_budget(request.seconds),
        seconds=request.seconds,
        per_scene=writing.MAX_WORDS_PER_SCENE,
        tone=tone,
    )


def _body(
    settings: Settings, messages: list[dict[str, str]], schema: dict[str, Any]
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
            "json_schema": {"name": "storyboard", "schema": schema, "strict": False},
        }
    elif settings.llm_response_format == "json_object":
        body["response_format"] = {"type": "json_object"}
    return body


def _post(client: httpx.Client, url: str, body: dict[str, Any], settings: Settings) -> Any:
    """The server's JSON answer; every failure an error saying what to do."""
    try:
        with client.stream("POST", url, json=body) as response:
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_ANSWER_BYTES:
                    raise EngineFailed(
                        f"the language model at {url} answered more than {MAX_ANSWER_BYTES} bytes",
                        hint="check REELFORGE_LLM_ENDPOINT points at a chat-completions server",
                    )
            status = response.status_code
    except httpx.TimeoutException:
        raise EngineFailed(
            f"the language model at {url} did not answer within {settings.llm_timeout_s:g} s",
            hint="raise REELFORGE_LLM_TIMEOUT_S, use a smaller model, or " + _OFFLINE_HINT,
        ) from None
    except httpx.TransportError as exc:
        raise EngineUnavailable(
            f"cannot reach the language model at {url}: {exc}",
            hint="start the server (llama.cpp: llama-server -m model.gguf --port 8080) or fix "
            "REELFORGE_LLM_ENDPOINT; " + _OFFLINE_HINT,
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


def _content(answer: Any) -> tuple[str, str, str]:
    """(text, finish reason, model) of a chat-completions answer."""
    try:
        choice = answer["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise EngineFailed(
            "the server's answer is not a chat completion (no choices[0].message.content)",
            hint="check REELFORGE_LLM_ENDPOINT points at an OpenAI-compatible /v1 server",
        ) from None
    model = answer.get("model") if isinstance(answer.get("model"), str) else ""
    return str(content or ""), str(choice.get("finish_reason") or ""), model
