"""Market lots of the regional training market, and the holder's exclusivity."""

from flask import Blueprint

bp = Blueprint("lots", __name__, url_prefix="/lots")
