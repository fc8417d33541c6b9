"""Responses carry ``X-Content-Type-Options: nosniff``; downloads also a sandboxing CSP, so a
caption file holding a tenant's ``<script>`` text is never run as a page."""

from __future__ import annotations

from conftest_api import Api

SCRIPT = "<html><script>alert(document.cookie)</script></html>"


def test_downloads_are_not_sniffed_or_run(api: Api) -> None:
    key = api.key("mallory")
    body = {"storyboard": {"scenes": [{"narration": SCRIPT}]}, "music": "none", "preview": True}
    job_id = api.submit(key, body)
    assert api.wait(job_id, key)["status"] == "completed"
    for name in ("captions.srt", "captions.vtt", "captions.ass", "manifest", "video"):
        response = api.client.get(f"/api/jobs/{job_id}/files/{name}", headers=api.headers(key))
        assert response.status_code == 200, (name, response.text)
        assert response.headers["x-content-type-options"] == "nosniff", name
        assert "sandbox" in response.headers["content-security-policy"], name
        assert not response.headers["content-type"].startswith("text/html"), name


def test_every_api_response_says_nosniff(api: Api) -> None:
    key = api.key("alice")
    for method, url, headers in (
        ("GET", "/api/jobs", api.headers(key)),
        ("GET", "/api/jobs/nope", api.headers(key)),  # a problem+json
        ("GET", "/api/jobs", {}),  # 401
        ("GET", "/api/health", {}),
        ("GET", "/openapi.json", {}),
        ("POST", "/api/videos", api.headers(key)),  # 422
    ):
        response = api.client.request(method, url, headers=headers)
        assert response.headers.get("x-content-type-options") == "nosniff", (url, response)


def test_docs_load_nothing_from_outside(open_api: Api) -> None:
    """The API page runs no third-party script (FastAPI's default pulls Swagger UI from a CDN,
    unreachable offline and run beside the keys people paste in)."""
    import re

    page = open_api.client.get("/docs")
    assert page.status_code == 200 and "openapi.json" in page.text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.text, re.I)
    assert "cdn" not in page.text.lower()
