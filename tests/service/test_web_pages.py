# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""The studio's files and the API docs are served by the app itself, from package files, and
no page points a browser at another host (``tests/web`` drives the pages in chromium). Also
``POST /api/jobs/{id}/cancel``, the studio's Cancel button."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest_api import Api, assert_problem, make_api, open_api  # noqa: F401

WEB = Path(__file__).resolve().parents[2] / "reelforge" / "web"
# An absolute URL, or a protocol-relative one in a quote, url() or attribute: "//host.tld".
URL = re.compile(r"""(?:(?:https?|wss?):|["'(=])//([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)""")


def foreign_hosts(text: str) -> list[str]:
    """Hosts named by absolute or protocol-relative URLs, except loopback ones."""
    found = []
    for match in URL.finditer(text):
        host = match.group(1)
        if host not in ("127.0.0.1", "localhost", "www.w3.org"):  # w3.org: the SVG namespace
            found.append(match.group(0))
    return found


def test_the_studio_page_and_its_files_are_served(open_api: Api) -> None:
    page = open_api.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    assert '<script type="module" src="/static/app.js">' in page.text
    names = sorted(p.name for p in WEB.iterdir() if p.is_file())
    assert {"index.html", "app.js", "studio.css", "api.js", "scenes.js"} <= set(names)
    for name in names:
        served = open_api.client.get(f"/static/{name}")
        assert served.status_code == 200, name
        assert served.content == (WEB / name).read_bytes()
        assert foreign_hosts(served.text) == [], name
    assert (
        open_api.client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    )
    assert_problem(open_api.client.get("/static/../service/api/app.py"), 404)


def test_docs_come_from_the_package_not_a_cdn(open_api: Api) -> None:
    pytest.importorskip("swagger_ui_bundle")
    docs = open_api.client.get("/docs")
    assert docs.status_code == 200
    assert foreign_hosts(docs.text) == [], docs.text
    assert "/docs/assets/swagger-ui-bundle.js" in docs.text
    assert '"validatorUrl": null' in docs.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        served = open_api.client.get(f"/docs/assets/{asset}")
        assert served.status_code == 200 and len(served.content) > 10_000, asset
    # Neither page is part of the API description.
    paths = open_api.client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/docs" not in paths


def test_cancel_keeps_the_job_so_it_can_be_retried(make_api, fake_make) -> None:
    idle: Api = make_api(workers=0)  # no worker: the job waits in the queue
    key = idle.key("alice")
    other = idle.key("bob")
    job_id = idle.submit(key)
    assert_problem(idle.client.post(f"/api/jobs/{job_id}/cancel", headers=idle.headers(other)), 404)
    assert_problem(idle.client.post(f"/api/jobs/{job_id}/cancel"), 401)
    cancelled = idle.client.post(f"/api/jobs/{job_id}/cancel", headers=idle.headers(key))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = idle.client.post(f"/api/jobs/{job_id}/cancel", headers=idle.headers(key))
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    retried = idle.client.post(f"/api/jobs/{job_id}/retry", headers=idle.headers(key))
    assert retried.status_code == 202 and retried.json()["status"] == "queued", retried.text

    working: Api = make_api()  # the quick fake renderer finishes the job
    key = working.key("alice")
    done = working.wait(working.submit(key), key)
    assert done["status"] == "completed"
    body = assert_problem(
        working.client.post(f"/api/jobs/{done['id']}/cancel", headers=working.headers(key)), 409
    )
    assert "only unfinished jobs" in body["detail"]
