"""The web studio at ``/``: the page and its files, served from ``reelforge/web/``.

The studio is plain HTML, CSS and JavaScript modules: no build step, and a thin client of the
public API (it calls nothing this module does not also offer to curl). The page carries a
Content-Security-Policy that allows only this server (``'self'``), so a page that tried to load
anything from another host would fail in the browser; the tests check that none does. The API
docs (``/docs``, :mod:`reelforge.service.api.docs`) are offline too.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from reelforge.service.api import docs

router = APIRouter(include_in_schema=False)

WEB_DIR = Path(str(resources.files("reelforge") / "web"))

# The studio runs only its own scripts and styles; blob: URLs are results it fetched with the
# API key (a <video> cannot send an Authorization header).
STUDIO_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


@router.get("/", response_class=FileResponse)
def studio() -> Any:
    """The studio's single page (its routes live after the ``#``)."""
    return FileResponse(
        WEB_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": STUDIO_CSP, "Cache-Control": "no-cache"},
    )


def install(app: FastAPI) -> None:
    """Serve the studio at ``/`` (its files under ``/static``) and Swagger UI's files for
    ``/docs``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    docs.mount_assets(app)
