"""A fake OpenAI-compatible chat-completions server on 127.0.0.1, speaking the documented
``POST /v1/chat/completions`` shape: the writer's and the translator's tests talk to it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from loopback import LoopbackServer, Reply, Request


class FakeChatServer:
    """A chat-completions server on 127.0.0.1 answering from a script of replies.

    Each reply is the assistant message's text, or a callable returning (status, body) for
    other shapes; the last reply repeats. ``answer`` instead writes each assistant message from
    the request's body (a translator that reads the cues it was sent). Every request body is
    kept in ``requests``, its headers in ``headers``.
    """

    def __init__(
        self,
        replies: list[str | Callable[[], tuple[int, bytes]]] | None = None,
        delay: float = 0,
        answer: Callable[[dict[str, Any]], str] | None = None,
    ):
        self.replies = list(replies or [])
        self.answer = answer
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.server = LoopbackServer(self._reply)
        self.url = self.server.url + "/v1"

    def _reply(self, request: Request) -> Reply:
        body = request.json()
        self.requests.append(body)
        self.headers.append(request.headers)
        if self.delay:
            time.sleep(self.delay)
        if self.answer is not None:
            reply: Any = self.answer(body)
        else:
            reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if request.path != "/v1/chat/completions":
            return Reply(404, b'{"error": {"message": "no such route"}}')
        if callable(reply):
            status, data = reply()
            return Reply(status, data)
        return Reply(200, json.dumps(completion(reply)).encode())

    def __enter__(self) -> FakeChatServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()


def ratings_answer(body: dict[str, Any], score: Callable[[int, int], float]) -> str:
    """A clips rating answer to a request: candidate ``n`` of ``count`` gets
    ``score(n, count)``, and the reason ``candidate n is the one``."""
    count = body["messages"][1]["content"].count("\n\nid ") + 1
    ratings = [
        {"id": n, "score": score(n, count), "reason": f"candidate {n} is the one"}
        for n in range(1, count + 1)
    ]
    return json.dumps({"ratings": ratings})


def translation_cues(body: dict[str, Any]) -> list[str]:
    """The caption cues a translation request sends (the user message: a JSON list)."""
    return list(json.loads(body["messages"][1]["content"]))


def translation_target(body: dict[str, Any]) -> str:
    """The code of the language a translation request asks for ("... into French (fr)")."""
    found = re.search(r"into \w[\w ()]* \((\w+)\)", body["messages"][0]["content"])
    assert found is not None
    return found.group(1)


def translation_tagged(body: dict[str, Any]) -> str:
    """A fake translator's answer: each cue as "[fr] cue", in the {"translations": [...]}
    shape."""
    code = translation_target(body)
    return json.dumps({"translations": [f"[{code}] {cue}" for cue in translation_cues(body)]})


def completion(content: str, finish: str = "stop") -> dict[str, Any]:
    """The documented chat-completions response shape."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model-1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
