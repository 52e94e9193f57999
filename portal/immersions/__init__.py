"""Immersion periods, tutors' assessments, debriefs, evaluations and juries.

``bp`` holds the operation's pages; ``tutor_bp`` the tutor's own space across operations.
"""

from flask import Blueprint

bp = Blueprint("immersions", __name__, url_prefix="/operations/<int:operation_id>")
tutor_bp = Blueprint("tutoring", __name__, url_prefix="/tutorat")
