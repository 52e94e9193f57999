"""Recruitment on job promises: trainees, their status and their match to a promise."""

from flask import Blueprint

bp = Blueprint("recruitment", __name__, url_prefix="/operations/<int:operation_id>/recrutement")
