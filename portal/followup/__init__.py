"""From training to lasting employment: exits, promise outcomes, follow-ups at exit, +3 and
+6 months, their reconciliation, reminders and indicators.

``bp`` holds the operation's pages; ``employment_bp`` the list of one's own follow-ups
across operations (« Suivi de mes recrutés » for an employer).
"""

from flask import Blueprint

bp = Blueprint("followup", __name__, url_prefix="/operations/<int:operation_id>")
employment_bp = Blueprint("employment", __name__, url_prefix="/suivi-emploi")
