"""``GET /docs``: the API reference as one self-contained page, read from ``/openapi.json``.

FastAPI's Swagger UI loads its script and styles from a CDN, which an offline server cannot
reach (and which would run third-party code next to the API keys people paste in). This page
has no outside resources: it lists each operation with its summary, parameters and answers.
``/openapi.json`` also loads into any OpenAPI viewer (Swagger UI, Redoc) one runs locally.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

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
    return HTMLResponse(PAGE)
