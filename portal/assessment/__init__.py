"""Evaluation of the operation and capitalisation, the prime DEFI, and what closing the
operation waits for.

The evaluation's written parts are sections of the operation's design (keys ``eval_*``),
co-edited with the design's machinery; its figures come from ``portal.followup``.
"""

from flask import Blueprint

bp = Blueprint("assessment", __name__, url_prefix="/operations/<int:operation_id>/evaluation")
