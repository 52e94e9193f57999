"""Links built from the configured ``PUBLIC_URL``, for what is kept or sent: e-mails,
documents, notifications."""

from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter


def _public_adapter() -> MapAdapter:
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    return current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link to ``endpoint``, always on the configured ``PUBLIC_URL``.

    Never built from the request's ``Host``: the client chooses it, and a forged one would
    mail real people links to another site (a password reset link, for one).
    """
    return _public_adapter().build(endpoint, values, force_external=True)


def site_path(endpoint: str, **values) -> str:
    """The path of ``endpoint`` under ``PUBLIC_URL`` (a link inside the portal's pages)."""
    return _public_adapter().build(endpoint, values)
