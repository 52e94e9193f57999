"""« Pour aller plus loin »: the Région's reference documents named by the DEFI sheet
(convention type, action sheet, communication leaflets…), uploaded by its admins."""

from flask import Blueprint

bp = Blueprint("resources", __name__, url_prefix="/pour-aller-plus-loin")
