"""Co-designed training: the sections that several organisations edit together."""

from flask import Blueprint

bp = Blueprint("design", __name__, url_prefix="/operations/<int:operation_id>/conception")
