"""What the stock providers share: one JSON search over :mod:`reelforge.network` with errors
that say what to do (not an engine: engines import it, it imports no engine)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import SecretStr

from reelforge import network
from reelforge.engines.base import EngineInfo
from reelforge.errors import EngineFailed, EngineUnavailable
from reelforge.settings import Settings, get_settings


def ask(provider: str, url: str, settings: Settings, *, key_hint: str, **headers: str) -> Any:
    """The provider's JSON answer to ``url``; :class:`EngineFailed` with a hint otherwise."""
    try:
        got = network.get(
            url,
            headers={**headers, "Accept": "application/json"},
            timeout_s=settings.stock_timeout_s,
            allow_private=settings.stock_allow_private,
        )
    except (OSError, ValueError) as exc:
        raise EngineFailed(
            f"{provider} could not be reached ({type(exc).__name__})",
            hint=f"check the network and REELFORGE_{provider.upper()}_ENDPOINT",
        ) from exc
    # Pixabay says a bad key with a 400 naming it; Pexels with 401/403
    if got.status in (401, 403) or (got.status == 400 and b"key" in got.body[:300].lower()):
        raise EngineFailed(f"{provider} refused the key", hint=f"check {key_hint}")
    if got.status == 429:
        raise EngineFailed(f"{provider}'s rate limit is reached", hint="try again in an hour")
    if got.status != 200:
        raise EngineFailed(f"{provider} answered HTTP {got.status}", hint="try again later")
    try:
        return json.loads(got.body)
    except ValueError as exc:
        raise EngineFailed(f"{provider}'s answer is not JSON", hint="try again later") from exc


def entries(answer: Any, key: str) -> list[dict[str, Any]]:
    """The objects listed under ``key`` of a JSON answer (nothing else)."""
    found = answer.get(key) if isinstance(answer, dict) else None
    return [entry for entry in found if isinstance(entry, dict)] if isinstance(found, list) else []


def number(entry: dict[str, Any], key: str) -> int:
    """``entry[key]`` as a whole number, 0 when absent or not a number."""
    try:
        return int(float(entry.get(key) or 0))
    except (TypeError, ValueError):
        return 0


class Provider:
    """What both providers do alike: their settings, their key, and whether they can run."""

    name: ClassVar[str]
    version: ClassVar[str]
    signup: ClassVar[str]  # where a key is had

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings  # None: the process's settings, read at each call

    def settings(self) -> Settings:
        return self._settings if self._settings is not None else get_settings()

    @property
    def title(self) -> str:
        return self.name.capitalize()  # "Pexels"

    @property
    def key_setting(self) -> str:
        return f"REELFORGE_{self.name.upper()}_API_KEY"

    def _key(self) -> SecretStr | None:
        key = getattr(self.settings(), f"{self.name}_api_key", None)
        return key if isinstance(key, SecretStr) else None

    def info(self) -> EngineInfo:
        missing = self._key() is None
        reason = f"no key: set {self.key_setting} (free at {self.signup})" if missing else ""
        return EngineInfo(self.name, "stock", self.version, available=not missing, reason=reason)

    def key(self) -> str:
        """The user's key; :class:`EngineUnavailable` saying how to set it when missing."""
        key = self._key()
        if key is None:
            raise EngineUnavailable(
                f"{self.title} needs an API key", hint=f"set {self.key_setting}"
            )
        return key.get_secret_value()

    def ask(self, url: str, **headers: str) -> Any:
        return ask(self.title, url, self.settings(), key_hint=self.key_setting, **headers)


def rendition(files: list[dict[str, Any]], short_side: int = 1080) -> dict[str, Any] | None:
    """Of a clip's files, the smallest at least ``short_side`` on its short side, else the
    largest (None when there is none)."""

    def short(entry: dict[str, Any]) -> int:
        return min(number(entry, "width"), number(entry, "height"))

    enough = [f for f in files if short(f) >= short_side]
    if enough:
        return min(enough, key=short)
    return max(files, key=short) if files else None
