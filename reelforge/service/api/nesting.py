"""Refuse JSON request bodies nested too deep, before FastAPI parses them.

``json.loads`` recurses once per level: a 2 KB body nested 600 levels deep reached pydantic and
ended in a 500, one nested 5,000 levels in a 400 "error parsing the body". Either way nothing
useful is in there: a storyboard is about six levels deep. This middleware scans the body
(already bounded by the body-size limit) without recursion and answers 422 with a teaching
problem, like any other invalid storyboard.
"""

from __future__ import annotations

from typing import Any

from reelforge.service.api import problems
from reelforge.spec.nesting import MAX_NESTING, json_too_deep, nesting_error


def _is_json(scope: Any) -> bool:
    content_type: bytes = dict(scope.get("headers", ())).get(b"content-type", b"").lower()
    media_type = content_type.split(b";", 1)[0].strip()
    return media_type == b"application/json" or media_type.endswith(b"+json")


class JsonNestingMiddleware:
    """422 for a JSON body whose arrays and objects nest deeper than ``limit``."""

    def __init__(self, app: Any, limit: int = MAX_NESTING) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages: list[dict[str, Any]] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if json_too_deep(body, self.limit):
            error = nesting_error("the request body", self.limit)
            response = problems.problem(
                422,
                "Invalid script or storyboard",
                error.message,
                slug="invalid-spec",
                hint=error.hint,
            )
            await response(scope, receive, send)
            return

        async def replay() -> Any:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)
