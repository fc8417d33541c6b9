"""A caption translator behind any OpenAI-compatible chat-completions server.

The same server, model and key as the story writer (``REELFORGE_LLM_*``, see
:mod:`reelforge.engines.chat`). Cues go in batches of ``REELFORGE_TRANSLATION_BATCH``, as a
JSON array, so the model sees its neighbours (a sentence often spans two cues) but answers one
translation per cue: ``{"translations": [...]}`` with exactly as many strings, in order. An
answer that is not that is shown its problem and asked once more; a second bad answer fails
the whole translation (nothing half-translated is returned).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from reelforge.engines.base import Translation, TranslationRequest
from reelforge.engines.chat import ChatClient, ChatEngine
from reelforge.errors import EngineFailed, SpecError
from reelforge.spec.writing import answer_json
from reelforge.text.languages import translation_language

VERSION = "1"
ATTEMPTS = 2  # the answer, and one more with its problem shown
MAX_CUE_CHARS = 500  # a caption cue is a line or two; a longer answer is not a translation
_OFFLINE_HINT = (
    "offline, translate with a local model: set REELFORGE_TRANSLATION_MODEL to a CTranslate2 "
    "folder (NLLB-200, Marian)"
)

SYSTEM_PROMPT = """\
You translate video subtitles from {source_name} ({source}) into {target_name} ({target}).
The user sends a JSON array of {count} subtitle cues, in the order they are shown. Answer \
with ONE JSON object and nothing else: {{"translations": [...]}} holding exactly {count} \
strings, the translation of each cue in the same order. Never merge, split, drop or reorder \
cues: a sentence may run over several cues; translate each cue's part so that the cues read \
naturally in order. Keep names, numbers and brands. Plain text only: no notes, quotes or \
line breaks."""

FEEDBACK = """\
That answer cannot be used: {problem}
Answer again with the whole JSON object only: {{"translations": [...]}} with exactly {count} \
strings."""


class OpenAICompatibleTranslator(ChatEngine, kind="translation", version=VERSION):
    """Translates caption cues with the chat-completions server of ``REELFORGE_LLM_ENDPOINT``."""

    name: ClassVar[str] = "openai-compatible"

    def translate(self, request: TranslationRequest) -> Translation:
        settings = self._config()
        size = settings.translation_batch
        texts: list[str] = []
        model = ""
        with ChatClient(settings, _OFFLINE_HINT) as chat:
            for first in range(0, len(request.texts), size):
                batch = request.texts[first : first + size]
                done, model = _batch(chat, request, batch, first)
                texts += done
        return Translation(tuple(texts), self.name, VERSION, model or settings.llm_model)


def _batch(
    chat: ChatClient, request: TranslationRequest, cues: tuple[str, ...], first: int
) -> tuple[list[str], str]:
    """The translations of ``cues`` (the batch starting at cue ``first``) and the model."""
    source, target = translation_language(request.source), translation_language(request.target)
    messages = [
        {
            "role": "system",
            "content": SYSTEM_PROMPT.format(
                source=source.code,
                source_name=source.name,
                target=target.code,
                target_name=target.name,
                count=len(cues),
            ),
        },
        {"role": "user", "content": json.dumps(list(cues), ensure_ascii=False)},
    ]
    schema = _schema(len(cues))
    problem = ""
    for _ in range(ATTEMPTS):
        answer = chat.complete(messages, "translations", schema)
        try:
            if answer.finish == "length":
                raise SpecError("the answer was cut off")
            return _read(answer_json(answer.content), cues), answer.model
        except SpecError as exc:
            problem = exc.message
            messages += [
                {"role": "assistant", "content": answer.content[:20_000]},
                {"role": "user", "content": FEEDBACK.format(problem=problem, count=len(cues))},
            ]
    last = first + len(cues)
    raise EngineFailed(
        f"the language model's translation into {target.name} of cues {first + 1}-{last} "
        f"did not validate after {ATTEMPTS} attempts: {problem}",
        hint="try a larger model, or a smaller REELFORGE_TRANSLATION_BATCH; " + _OFFLINE_HINT,
    )


def _schema(count: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "translations": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": count,
                "maxItems": count,
            }
        },
        "required": ["translations"],
        "additionalProperties": False,
    }


def _read(answer: Any, cues: tuple[str, ...]) -> list[str]:
    """The answer's translations, one clean line per cue; a SpecError naming the problem."""
    found = answer.get("translations") if isinstance(answer, dict) else answer
    if not isinstance(found, list):
        raise SpecError('the answer has no "translations" array')
    if len(found) != len(cues):
        raise SpecError(
            f'"translations" has {len(found)} strings for {len(cues)} cues: give exactly one '
            "translation per cue, in order, without merging or splitting cues"
        )
    texts = []
    for number, (text, cue) in enumerate(zip(found, cues, strict=True), start=1):
        if not isinstance(text, str):
            raise SpecError(f"translation {number} is a {type(text).__name__}, not a string")
        line = " ".join(text.split())
        if cue.strip() and not line:
            raise SpecError(f"translation {number} is empty (the cue is {cue!r})")
        if len(line) > MAX_CUE_CHARS:
            raise SpecError(f"translation {number} has {len(line)} characters: too long for a cue")
        texts.append(line)
    return texts
