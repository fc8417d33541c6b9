"""``GET /docs``: the API reference, read from ``/openapi.json``, with no outside resources.

FastAPI's Swagger UI loads its script and styles from a CDN, which an offline server cannot
reach (and which would run third-party code next to the API keys people paste in). Here Swagger
UI's files come from the ``swagger-ui-bundle-v2`` package (the ``service`` extra) and are served
by this server under ``/docs/assets``; without that package, ``/docs`` is one self-contained
page listing each operation with its summary, parameters and answers. Either way the page's
Content-Security-Policy allows this server only. ``/openapi.json`` also loads into any OpenAPI
viewer one runs locally.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)

ASSETS = "/docs/assets"
# Swagger UI starts from an inline script (FastAPI's page) and styles itself inline.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def swagger_dir() -> Path | None:
    """Swagger UI's files from the ``swagger-ui-bundle-v2`` package, or None without it."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    folder = Path(str(swagger_ui_path))
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def mount_assets(app: FastAPI) -> None:
    """Serve Swagger UI's files under ``/docs/assets`` when the package is installed."""
    folder = swagger_dir()
    if folder is not None:
        app.mount(ASSETS, StaticFiles(directory=folder), name="docs-assets")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reelforge API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code,pre{font:13px ui-monospace,monospace}.op{border-top:1px solid #ddd;padding:.6rem 0}
.method{display:inline-block;min-width:4.5rem;font-weight:bold}.muted{color:#666}
</style></head><body>
<h1>reelforge API</h1>
<p>The machine-readable schema is at <a href="openapi.json">/openapi.json</a>; load it into any
OpenAPI viewer (Swagger UI, Redoc) for a richer view. Authenticate with
<code>Authorization: Bearer rf_...</code>.</p>
<div id="description"></div><div id="operations">Loading /openapi.json ...</div>
<script>
"use strict";
function add(parent, tag, text, cls) {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  if (cls) node.className = cls;
  parent.appendChild(node);
  return node;
}
fetch("openapi.json").then(r => r.json()).then(schema => {
  add(document.getElementById("description"), "pre", schema.info.description || "");
  const list = document.getElementById("operations");
  list.textContent = "";
  for (const [path, operations] of Object.entries(schema.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const box = add(list, "div", "", "op");
      const head = add(box, "div");
      add(head, "span", method.toUpperCase(), "method");
      add(head, "code", path);
      add(box, "div", op.summary || "");
      const params = (op.parameters || []).map(p => p.name + " (" + p.in + ")");
      if (params.length) add(box, "div", "parameters: " + params.join(", "), "muted");
      add(box, "div", "answers: " + Object.keys(op.responses || {}).join(", "), "muted");
    }
  }
}).catch(error => {
  document.getElementById("operations").textContent = "could not load /openapi.json: " + error;
});
</script></body></html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    if swagger_dir() is None:
        page = HTMLResponse(PAGE)
    else:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="reelforge API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            # No badge from the public validator service: nothing leaves this server.
            swagger_ui_parameters={"validatorUrl": None},
        )
    page.headers["Content-Security-Policy"] = CSP
    return page
