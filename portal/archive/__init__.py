"""The operation's archive: one deterministic zip of every document the portal issued for
an operation, with a manifest of their SHA-256 and of the operation's audit events, which
the public verification page recognises."""

from flask import Blueprint

bp = Blueprint("archive", __name__, url_prefix="/operations/<int:operation_id>/archive")
