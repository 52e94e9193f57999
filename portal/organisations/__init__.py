"""Each organisation's members and invitations, managed by its admins (and the Région)."""

from flask import Blueprint

bp = Blueprint("organisations", __name__, url_prefix="/organisations")
