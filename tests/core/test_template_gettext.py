"""Templates' ``_()`` (portal/__init__.py ``_install_template_gettext``): the same text as
Jinja's newstyle gettext, a string without variables kept per locale and escaping mode
(issue #16), so that the kept text changes with the request's locale and under
``force_locale``."""

from flask import session
from flask_babel import force_locale
from markupsafe import Markup


def render(app, source: str, lang: str | None = None, **context) -> str:
    """``source`` rendered by the app's environment in a request whose language is
    ``lang`` (the portal's selector reads the session)."""
    with app.test_request_context():
        if lang:
            session["lang"] = lang
        return app.jinja_env.from_string(source).render(**context)


def test_a_string_follows_the_request_locale(app):
    assert render(app, '{{ _("Accueil") }}', "fr") == "Accueil"
    assert render(app, '{{ _("Accueil") }}', "en") == "Home"
    assert render(app, '{{ _("Accueil") }}', "fr") == "Accueil"
    assert render(app, '{{ gettext("Se déconnecter") }}', "en") == "Sign out"


def test_force_locale_changes_a_kept_string(app):
    """E-mails and documents are written in their reader's language inside a request in
    another one."""
    template = app.jinja_env.from_string('{{ _("Accueil") }}')
    with app.test_request_context():
        session["lang"] = "en"
        assert template.render() == "Home"
        with force_locale("fr"):
            assert template.render() == "Accueil"
        assert template.render() == "Home"


def test_the_text_is_jinja_newstyle_gettext(app):
    """Always a format string (``%%`` gives ``%``), variables escaped, the translation not,
    and nothing escaped where autoescape is off."""
    assert render(app, '{{ _("Par exemple : 312 ou 14 %%") }}', "fr") == (
        "Par exemple : 312 ou 14 %"
    )
    assert render(app, '{{ _("a <b>%(x)s</b>", x=v) }}', "fr", v="<i>") == ("a <b>&lt;i&gt;</b>")
    assert render(app, '{{ _("a %(x)s", x=v) }}', "fr", v=Markup("<i>")) == "a <i>"
    off = '{% autoescape false %}{{ _("a <b>%(x)s</b> %%", x=v) }}{% endautoescape %}'
    assert render(app, off, "fr", v="<i>") == "a <b><i></b> %"
    assert render(app, '{% autoescape false %}{{ _("<b>") }}{% endautoescape %}', "fr") == "<b>"
    assert render(app, '{{ _("<b>") }}', "fr") == "<b>"


def test_a_string_without_variables_is_translated_once_per_locale(app):
    """The second call gives the text kept by the first, not a new one."""
    with app.test_request_context():
        session["lang"] = "en"
        gettext = app.jinja_env.globals["_"]
        context = app.jinja_env.from_string("").new_context({})
        assert gettext(context, "Accueil") is gettext(context, "Accueil")
        assert gettext(context, "Accueil") == "Home"
