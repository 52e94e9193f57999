"""« À faire »: what each organisation and user is expected to do, across their operations
(``duties.py``), on the home page, the operation page, the header's count and its own page."""

from flask import Blueprint

bp = Blueprint("todo", __name__, url_prefix="/a-faire")
