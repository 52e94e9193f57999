"""Personal data (RGPD): the register of processing, a trainee's rights (export,
rectification, erasure) and the retention of personal data (issue #17)."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)
