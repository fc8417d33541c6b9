"""Fixtures for the security tests: the service and API fixtures of tests/service, reused.

The attacks run through the HTTP API (``api``, ``make_api``: FastAPI's TestClient over a
temporary SQLite database and local store) or against the service (``service``). Test modules
import helpers with ``from conftest_api import Api, assert_problem``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SERVICE_TESTS = Path(__file__).resolve().parent.parent / "service"
if str(_SERVICE_TESTS) not in sys.path:
    sys.path.insert(0, str(_SERVICE_TESTS))


def _load(name: str, path: Path) -> object:
    """Import a tests/service module under its own name (``conftest`` is taken by this file)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_service = _load("service_conftest", _SERVICE_TESTS / "conftest.py")

from conftest_api import api, make_api, open_api  # noqa: E402

migrated_sqlite = _service.migrated_sqlite  # type: ignore[attr-defined]
service_settings = _service.service_settings  # type: ignore[attr-defined]
service = _service.service  # type: ignore[attr-defined]
fake_make = _service.fake_make  # type: ignore[attr-defined]

__all__ = [
    "api",
    "fake_make",
    "make_api",
    "migrated_sqlite",
    "open_api",
    "service",
    "service_settings",
]
