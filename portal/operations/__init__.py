"""DEFI operations: the reported need, participants, lifecycle and timeline."""

from flask import Blueprint

bp = Blueprint("operations", __name__, url_prefix="/operations")
