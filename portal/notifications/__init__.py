"""In-app notifications (with an e-mail copy) for the people who must act."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
