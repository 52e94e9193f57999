"""Fingerprinted static files: cached for a year by browsers, never stale.

``url_for("static", filename=…)`` carries ``v=`` — the first 12 hexadecimal characters of
the file's SHA-256 — so a changed file gets a new URL. A request bearing the file's
current fingerprint is answered ``Cache-Control: public, max-age=31536000, immutable``:
the browser does not even revalidate it on the next page. Any other request for a static
file (no ``v``, or an old one) revalidates (``no-cache``). Static files hold nothing
personal: they are cacheable for logged-in people too (``security.security_headers``
leaves them to this module).
"""

import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, request

YEAR = 365 * 24 * 3600


def fingerprint(filename: str) -> str | None:
    """The file's fingerprint (computed once per process; again in debug, as files
    change), or None when there is no such file."""
    cache = current_app.extensions.setdefault("static_fingerprints", {})
    if filename not in cache or current_app.debug:
        path = Path(current_app.static_folder) / filename
        try:
            cache[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        except OSError:  # no such file: the URL stays as it is, and is a 404
            cache[filename] = None
    return cache[filename]


def cache_headers(response: Response) -> None:
    """A year and immutable for the current fingerprint; revalidate otherwise."""
    filename = (request.view_args or {}).get("filename", "")
    current = fingerprint(filename)
    if response.status_code in (200, 304) and current and request.args.get("v") == current:
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
        response.cache_control.no_cache = None
    else:
        response.cache_control.no_cache = True
        response.cache_control.max_age = None
        response.cache_control.public = None


def init_app(app: Flask) -> None:
    """Add the fingerprint to every static URL the app builds."""

    @app.url_defaults
    def _add_fingerprint(endpoint, values):
        if endpoint == "static" and "v" not in values:
            current = fingerprint(values.get("filename", ""))
            if current:
                values["v"] = current
