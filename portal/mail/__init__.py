"""Outgoing e-mail: an outbox table, an SMTP sender and the demo outbox page."""

from flask import Blueprint

bp = Blueprint("mail", __name__)
