"""flask-babel's request state found in one lookup (portal/core/babel_context.py): the
same contract as flask-babel's own ``_get_current_context``."""

import flask_babel
from flask import g, session
from flask_babel import force_locale, get_locale, gettext

from portal.core import babel_context


def test_flask_babel_uses_the_portal_lookup(app):
    assert flask_babel._get_current_context is babel_context.current_context


def test_the_same_state_as_flask_babel_keeps_on_g(app):
    assert babel_context.current_context() is None  # no application context
    with app.app_context():
        state = babel_context.current_context()
        assert state is g._flask_babel
        assert babel_context.current_context() is state
        assert babel_context._ORIGINAL() is state  # flask-babel's own finds the same
    with app.app_context():
        assert babel_context.current_context() is not state  # one per context


def test_the_locale_and_force_locale_still_hold(app):
    with app.test_request_context():
        session["lang"] = "en"
        assert str(get_locale()) == "en"
        assert gettext("Accueil") == "Home"
        with force_locale("fr"):
            assert gettext("Accueil") == "Accueil"
        assert gettext("Accueil") == "Home"
