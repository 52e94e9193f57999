"""Fingerprinted static files (issue #16 « Static files and HTTP »): each URL carries the
file's fingerprint and is cached a year as immutable, for logged-in people too; any
other request for a static file revalidates."""

import hashlib
import re
from pathlib import Path

from flask import url_for

from tests.support import client_as

STATIC = Path(__file__).resolve().parents[2] / "static"


def fingerprint(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def test_static_urls_carry_the_file_s_fingerprint(app):
    with app.test_request_context():
        assert url_for("static", filename="css/app.css") == (
            f"/static/css/app.css?v={fingerprint('css/app.css')}"
        )
        assert url_for("static", filename="no/such.css") == "/static/no/such.css"


def test_pages_link_the_fingerprinted_files(client):
    page = client.get("/connexion").get_data(as_text=True)
    for name in ("css/app.css", "js/app.js"):
        assert f"/static/{name}?v={fingerprint(name)}" in page
    assert re.search(r"/static/vendor/htmx-[\d.]+\.min\.js\?v=[0-9a-f]{12}", page)


def test_the_current_fingerprint_is_cached_a_year_even_when_logged_in(app, client, world):
    url = f"/static/css/app.css?v={fingerprint('css/app.css')}"
    for browser in (client, client_as(app, world.emails["region_admin"])):
        with browser.get(url) as response:
            assert response.status_code == 200
            cache = response.cache_control
            assert (cache.public, cache.max_age, cache.immutable) == (True, 31536000, True)
            assert "no-store" not in response.headers["Cache-Control"]


def test_no_or_an_old_fingerprint_revalidates(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.cache_control.no_cache and not response.cache_control.immutable
            assert response.cache_control.max_age is None


def test_logged_in_pages_are_still_never_stored(app, world):
    response = client_as(app, world.emails["region_admin"]).get("/")
    assert response.headers["Cache-Control"] == "no-store"
