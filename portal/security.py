"""What protects every request, set up in one place by ``create_app``.

- The session signing key: ``SECRET_KEY``, required in production; elsewhere a random key
  made on first start and kept in ``instance/secret_key`` (mode 0600), so that ``make run``
  needs nothing set and no two installations share a key. A key published with the code
  is refused everywhere: anyone could forge a session with it.
- The portal's address: ``PUBLIC_URL`` (required in production) builds every absolute link
  of e-mails and documents, never the request's ``Host``, which the client chooses. The
  hosts the portal answers for (Flask's ``TRUSTED_HOSTS``) are PUBLIC_URL's, those listed in
  ``TRUSTED_HOSTS``, and outside production the local ones: any other ``Host`` gets a 400.
- Reverse proxies: ``TRUSTED_PROXIES`` proxies in front of the portal are believed about
  the client's address, scheme and host (``X-Forwarded-*``); with 0, the default, none is.
- The security headers of every response.
- Posted fields without a name (a multipart part whose ``Content-Disposition`` has none, or
  a name broken by a line break) are dropped when the body is read: Werkzeug keys them
  ``None``, and the CSRF check, like any code reading the form, expects text keys (such a
  request made a 500, found by tests/core/test_fuzz_forms.py).
"""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Request, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.core import static_files

# Keys that shipped with the code at some point: whoever reads the code can sign sessions.
PUBLISHED_SECRET_KEYS = frozenset({"dev-only-secret-key-change-me"})
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"
LOCAL_HOSTS = ("localhost", "127.0.0.1")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# The portal uses none of these browser features: no page, nor anything injected in one,
# may ask for them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "serial",
        "usb",
    )
)
# Pages opened by a token link: their URL is a secret, so no Referer carries it further
# (see also portal/gunicorn_logging.py).
TOKEN_ENDPOINTS = frozenset({"accounts.accept_invitation", "accounts.reset_password"})
# Pages that show a secret or what a visitor checked: never cached, even for anonymous
# visitors. Logged-in pages are never cached either.
NO_STORE_ENDPOINTS = TOKEN_ENDPOINTS | {"verification.verify"}


class PortalRequest(Request):
    """A request whose form and files hold only named fields."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        for name in ("form", "files"):
            fields = self.__dict__[name]
            if None in fields:
                if name == "files":  # dropped, so ``close()`` would not see them
                    for upload in fields.getlist(None):
                        upload.close()
                self.__dict__[name] = type(fields)(
                    (key, value) for key, value in fields.items(multi=True) if key is not None
                )


def init_app(app: Flask) -> None:
    """Check the secret key and the public address, trust hosts and proxies, add headers."""
    app.request_class = PortalRequest
    production = app.config["PORTAL_ENV"] == "production"
    _set_secret_key(app, production)
    _set_public_url(app, production)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies < 0:
        raise RuntimeError("TRUSTED_PROXIES is a number of proxies: 0 or more.")
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.after_request(security_headers)
    static_files.init_app(app)
    app.register_error_handler(SecurityError, untrusted_host)


def _set_secret_key(app: Flask, production: bool) -> None:
    key = app.config.get("SECRET_KEY")
    if key in PUBLISHED_SECRET_KEYS:
        raise RuntimeError(
            "SECRET_KEY is a key published with the code: anyone could forge a session. "
            "Set a random SECRET_KEY, or unset it outside production."
        )
    if key:
        return
    if production:
        raise RuntimeError("PORTAL_ENV=production needs SECRET_KEY: set a long random value.")
    app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


def instance_secret_key(folder: Path) -> str:
    """This installation's own random key, made on first use and kept in ``folder``.

    Two workers starting at once must end with the same key. The key is written whole to a
    private temporary file (``mkstemp``: ``O_EXCL``, mode 0600), then hard-linked to its
    name, which fails if the name exists: the file appears complete or not at all, one
    process wins, and every process uses what the file says.
    """
    path = folder / SECRET_KEY_FILE
    if not path.exists():
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{SECRET_KEY_FILE}.")
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(32) + "\n")
                file.flush()
                os.fsync(file.fileno())
            # Fails when another process made it first: its key is the one.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable key: delete it, or set SECRET_KEY.")
    return key


def _set_public_url(app: Flask, production: bool) -> None:
    public_url = (app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not public_url:
        if production:
            raise RuntimeError(
                "PORTAL_ENV=production needs PUBLIC_URL, the portal's https:// address: "
                "links in e-mails are built from it."
            )
        public_url = DEVELOPMENT_PUBLIC_URL
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RuntimeError(f"PUBLIC_URL must be an http(s):// address, not {public_url!r}.")
    if production and parts.scheme != "https":
        raise RuntimeError("PORTAL_ENV=production needs an https:// PUBLIC_URL.")
    app.config["PUBLIC_URL"] = public_url
    app.config["TRUSTED_HOSTS"] = trusted_hosts(
        public_url, app.config.get("TRUSTED_HOSTS") or (), production=production
    )


def trusted_hosts(public_url: str, extra=(), *, production: bool) -> list[str]:
    """PUBLIC_URL's host, the ``extra`` ones, and outside production the local ones."""
    hosts = [urlsplit(public_url).hostname, *extra]
    if not production:
        hosts += LOCAL_HOSTS
    return list(dict.fromkeys(host.strip().lower() for host in hosts if host and host.strip()))


def untrusted_host(_error):
    """A request for a host the portal does not serve (Werkzeug refused its ``Host``).

    No page can be built: its links would need a URL adapter, which Flask could not make
    for that host. A short French text says why.
    """
    message = _("Requête incorrecte : le portail ne répond pas à cette adresse.")
    return message, 400, {"Content-Type": "text/plain; charset=utf-8"}


def security_headers(response):
    """The headers every response carries (pages, fragments, files, errors, redirects)."""
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = (
        "no-referrer" if request.endpoint in TOKEN_ENDPOINTS else "same-origin"
    )
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if current_app.config["PORTAL_ENV"] == "production":
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.endpoint == "static":  # nothing personal: fingerprinted, cached a year
        static_files.cache_headers(response)
    # ``is_anonymous``, not ``is_authenticated``: the latter reads ``is_enabled``, which a
    # page's commit has expired, and reloaded the user and their memberships (two queries
    # on every page that commits its access log, issue #16); a logged-in user is never
    # stored either way.
    elif not current_user.is_anonymous or request.endpoint in NO_STORE_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response


def own_navigation() -> bool:
    """The request is the user's own navigation, by its Fetch metadata (``Sec-Fetch-Site``):
    « same-origin » (a link of the portal) or « none » (typed, bookmarked), not a link or an
    image on another site (« cross-site », « same-site »). Evidence written by a GET (a
    version opened, a document downloaded) is recorded only then (issue #11 M9), so that
    another site cannot make a user leave it. Clients sending no such header (scripts,
    browsers older than 2023) are taken at their word, as « none »."""
    return request.headers.get("Sec-Fetch-Site", "none") in ("same-origin", "none")
