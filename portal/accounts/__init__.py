"""Accounts: login, logout, invitations, password reset and the organisation switcher."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)
