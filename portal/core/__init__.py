"""Cross-cutting pieces: home pages, health check, errors, security headers."""

from flask import Blueprint

bp = Blueprint("core", __name__)
