"""The steering committee (comité de pilotage) of an operation: its members, its meetings
and their convocations (with an iCalendar invitation), attendance, the minutes co-edited
as a design section (key ``minutes``) and approved by the organisme porteur, the
decisions and the action items that the owners find in their « À faire » and are
reminded of."""

from flask import Blueprint

bp = Blueprint("steering", __name__, url_prefix="/operations/<int:operation_id>/comite")
