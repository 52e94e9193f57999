"""The partnership convention: drafting, frozen versions, signatures, validation, documents.

``bp`` holds the operation's convention pages; ``public_bp`` the verification page that
anyone can use without an account.
"""

from flask import Blueprint

bp = Blueprint("conventions", __name__, url_prefix="/operations/<int:operation_id>/convention")
public_bp = Blueprint("verification", __name__, url_prefix="/verification")
