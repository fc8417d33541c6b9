"""A story writer behind any OpenAI-compatible chat-completions server.

OpenAI itself, a local llama.cpp server (``llama-server -m model.gguf --port 8080``), vLLM
(``vllm serve MODEL``) or Ollama's ``/v1``: the endpoint, model, key and timeout come from
the settings (``REELFORGE_LLM_*``), never from a request. The model is asked for one JSON
object matching the writer's part of the storyboard schema
(:func:`reelforge.spec.writing.writer_schema`); an answer that is not JSON or does not
validate is shown its problems and asked again, a bounded number of times.

The wire format (``POST {endpoint}/chat/completions``) is :mod:`reelforge.engines.chat`'s.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from reelforge.engines.base import WritingRequest, WrittenStoryboard
from reelforge.engines.chat import ChatClient, ChatEngine
from reelforge.errors import EngineFailed, SpecError
from reelforge.spec import writing
from reelforge.spec.templates import get_template

VERSION = "1"
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


class OpenAICompatibleWriter(ChatEngine, kind="writer", version=VERSION):
    """Writes a storyboard with the chat-completions server of ``REELFORGE_LLM_ENDPOINT``."""

    name: ClassVar[str] = "openai-compatible"

    def write(self, request: WritingRequest) -> WrittenStoryboard:
        settings = self._config()
        fewest, most = writing.scene_range(request.seconds, request.max_scenes)
        schema = writing.writer_schema(most, fewest)
        messages: list[dict[str, str]] = [
            {"role": "system", "content": _system_prompt(request, schema, fewest, most)},
            {"role": "user", "content": request.idea.strip()},
        ]
        problems = ""
        with ChatClient(settings, _OFFLINE_HINT) as chat:
            for attempt in range(1, settings.llm_attempts + 1):
                answer = chat.complete(messages, "storyboard", schema)
                content = answer.content
                try:
                    if answer.finish == "length":
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
                    model=answer.model or settings.llm_model,
                    attempts=attempt,
                    notes=tuple(notes),
                )
        raise EngineFailed(
            f"the language model's answer did not validate after {settings.llm_attempts} "
            f"attempts; the last one:\n{problems}",
            hint="try a larger model or raise REELFORGE_LLM_ATTEMPTS; " + _OFFLINE_HINT,
        )


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
