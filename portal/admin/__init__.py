"""The Région's administration: organisations, users, territories and referents."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/administration")
