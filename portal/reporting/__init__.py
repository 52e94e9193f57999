"""The piloting tools: the dashboard (« Pilotage ») with its SQL aggregates and
server-rendered SVG charts, and the CSV / XLSX exports of what the filters select."""

from flask import Blueprint

bp = Blueprint("reporting", __name__, url_prefix="/pilotage")
