"""The pages every French public site must have, reachable without an account: the
accessibility statement (RGAA 4.1), the legal notice, the personal data page and the site
map (RGAA 12.1, a second way to navigate). Their facts come from the configuration
(``SITE_*``, ``ACCESSIBILITY_COMPLIANCE``: see portal/config.py and the README)."""

from flask import Blueprint

bp = Blueprint("public", __name__)
