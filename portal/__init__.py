"""Portail DEFI: the Flask application factory."""

import os
from pathlib import Path

from flask import Flask, g, session
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine

from portal import security
from portal.config import load_config
from portal.core import babel_context
from portal.core.forms import install_html_params
from portal.extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


@event.listens_for(Engine, "connect")
def _connection_settings(dbapi_connection, connection_record):  # noqa: ARG001
    """WAL, a busy timeout and enforced foreign keys on every SQLite connection; no JIT on
    every PostgreSQL connection.

    PostgreSQL compiles a statement whose estimated cost passes ``jit_above_cost`` (100,000)
    before running it: the « À faire » count, one statement of COUNTs over the open
    operations, is estimated near 900,000 at 10,000 operations and spent 1.55 s of its
    1.71 s compiling (issue #16, EXPLAIN ANALYZE in the stop note) to run for 0.2 s. The
    portal's statements are short reads: compiling never pays."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
    elif module.startswith("psycopg"):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()  # a SET inside a rolled-back transaction would be undone


def _select_locale() -> str:
    lang = session.get("lang")
    return lang if lang in ("fr", "en") else "fr"


# Templates' translated strings without variables, kept per locale and escaping mode: at
# most this many (the templates hold some 2,000; a template passing a computed string to
# ``_()`` must not grow the process without bound).
TEMPLATE_STRINGS_KEPT = 20_000


def _install_template_gettext(app: Flask) -> None:
    """Templates' ``_()`` and ``ngettext()`` with this request's catalogue looked up once per
    locale (issue #16): flask-babel's own callables find the request's context three times
    and format the locale's name on every call, some forty times a page. The locale is
    still asked on each call, so ``force_locale`` (e-mails in their reader's language)
    holds; the catalogues are flask-babel's, which it keeps for the whole process too.

    ``_()`` and ``gettext()`` also skip Jinja's own wrapper (through ``Context.call``, the
    ``_`` alias resolving ``gettext`` again, then a ``Markup`` formatted by markupsafe's
    pure-Python ``%`` with no variables, some fifty times a page, a tenth of « Mon
    compte »): the result of a string without variables is kept per (locale, escaping,
    string) — the same ``Markup`` Jinja's wrapper gives, ``%%`` made ``%`` alike. With
    variables it is formatted on each call exactly as Jinja's wrapper does."""
    catalogues = {}
    rendered = {}

    def translations():
        """(a key naming this request's locale, or None outside a request; its catalogue).
        The key is the locale's parts: babel's ``Locale`` compares and hashes in Python,
        and each request parses a new one."""
        locale = get_locale()
        if locale is None:  # outside a request: flask-babel's empty catalogue
            return None, get_translations()
        key = (locale.language, locale.territory, locale.script, locale.variant, locale.modifier)
        found = catalogues.get(key)
        if found is None:
            found = catalogues[key] = get_translations()
        return key, found

    @pass_context
    def gettext(context, string, **variables):
        autoescape = context.eval_ctx.autoescape
        locale, catalogue = translations()
        key = (locale, autoescape, string)
        if not variables and locale is not None:
            found = rendered.get(key)
            if found is not None:
                return found
        text = catalogue.ugettext(string)
        if autoescape:
            text = Markup(text)  # noqa: S704 - a translator's text, as Jinja's wrapper does
        text = text % variables  # always a format string (Jinja's newstyle gettext)
        if not variables and locale is not None and len(rendered) < TEMPLATE_STRINGS_KEPT:
            rendered[key] = text
        return text

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations()[1].ugettext(s),
        ngettext=lambda s, p, n: translations()[1].ungettext(s, p, n),
        pgettext=lambda c, s: translations()[1].upgettext(c, s),
        npgettext=lambda c, s, p, n: translations()[1].unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["gettext"] = gettext
    app.jinja_env.globals["_"] = gettext


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides what the environment says (tests)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH", str(ROOT / "instance")),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    production = app.config["PORTAL_ENV"] == "production"
    security.init_app(app)  # secret key, PUBLIC_URL and trusted hosts, proxies, headers

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    install_html_params()
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(ROOT / "portal" / "translations"),
    )
    babel_context.install()
    _install_template_gettext(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    from portal import models  # noqa: F401  (every model registers on the metadata)
    from portal.accounts import mfa_views, sessions_views  # noqa: F401  (on accounts.bp)
    from portal.accounts import views as accounts_views
    from portal.admin import clauses_views  # noqa: F401  (on admin.bp)
    from portal.admin import views as admin_views
    from portal.archive import views as archive_views
    from portal.assessment import views as assessment_views
    from portal.conventions import signing_views, version_views  # noqa: F401  (on conventions.bp)
    from portal.conventions import views as convention_views
    from portal.conventions.documents_views import download_docx  # noqa: F401  (conventions.bp)
    from portal.conventions.verification_views import public_bp as verification_bp
    from portal.core import views as core_views
    from portal.core.errors_views import register_error_handlers
    from portal.design import comments_views, history_views, live_views  # noqa: F401
    from portal.design import views as design_views
    from portal.followup import (  # noqa: F401  (on followup.bp; employment_bp registered below)
        exits_views,
        mine_views,
        outcomes_views,
    )
    from portal.followup import views as followup_views
    from portal.immersions import (  # noqa: F401  (on immersions.bp; tutor_bp registered below)
        debriefs_views,
        documents_views,
        evaluations_views,
        tutor_views,
    )
    from portal.immersions import views as immersions_views
    from portal.lots import views as lots_views
    from portal.mail import views as mail_views
    from portal.notifications import views as notifications_views
    from portal.operations import (  # noqa: F401  (on operations.bp)
        analysis_views,
        dual_views,
        needs_views,
        participants_views,
    )
    from portal.operations import views as operations_views
    from portal.organisations import views as organisations_views
    from portal.privacy import register_views  # noqa: F401  (on admin.bp)
    from portal.privacy import views as privacy_views
    from portal.public import views as public_views
    from portal.recruitment import (  # noqa: F401  (on recruitment.bp)
        bulk_views,
        lasting_views,
        proposal_views,
        session_views,
        trainees_views,
    )
    from portal.recruitment import views as recruitment_views
    from portal.reporting import (  # noqa: F401  (on reporting.bp; summary keeps the figures)
        bilan_views,
        summary,
    )
    from portal.reporting import views as reporting_views
    from portal.resources import views as resources_views
    from portal.steering import meeting_views  # noqa: F401  (on steering.bp)
    from portal.steering import views as steering_views
    from portal.todo import views as todo_views

    # Importing an area's views registers its routes on the area's blueprint.
    for views in (
        core_views,
        accounts_views,
        organisations_views,
        admin_views,
        mail_views,
        lots_views,
        operations_views,
        notifications_views,
        design_views,
        convention_views,
        recruitment_views,
        immersions_views,
        resources_views,
        followup_views,
        assessment_views,
        reporting_views,
        steering_views,
        archive_views,
        todo_views,
        public_views,
        privacy_views,
    ):
        app.register_blueprint(views.bp)
    app.register_blueprint(verification_bp)  # public: checks a convention copy, no login
    app.register_blueprint(tutor_views.tutor_bp)
    app.register_blueprint(mine_views.employment_bp)
    register_error_handlers(app)

    from portal.cli import register_cli

    register_cli(app)
    _register_request_hooks(app)

    if production:
        with app.app_context():
            _refuse_demo_data_in_production()
    return app


def _refuse_demo_data_in_production() -> None:
    from portal.core.demo_state import has_demo_data

    if inspect(db.engine).has_table("users") and has_demo_data():
        raise RuntimeError("PORTAL_ENV=production refuses a database holding the demo data.")


def _register_request_hooks(app: Flask) -> None:
    from portal import htmx
    from portal.accounts.access import load_current_membership, require_mfa_enrolment
    from portal.accounts.user_sessions import check_request
    from portal.core import fingerprints, french, jobs
    from portal.core.layout import layout_globals
    from portal.mail.services import send_pending, smtp_configured

    app.before_request(check_request)  # ended, idle or too old sessions go first
    app.before_request(load_current_membership)
    app.before_request(require_mfa_enrolment)
    app.jinja_env.globals["is_htmx"] = htmx.is_htmx
    app.jinja_env.filters["hash_blocks"] = fingerprints.blocks
    french.register(app)  # the ``de`` and ``a`` filters: « d'Orléans », « au Titre… »

    @app.context_processor
    def inject_globals():
        # demo_mode and unread_notifications are lazy: one query, only if a template shows them.
        return {"current_locale": str(get_locale()), **layout_globals()}

    @app.after_request
    def deliver_queued_mail(response):
        """Send this request's e-mails after the response: never block or lose the action.
        With ``REDIS_URL``, as an RQ job (a bulk mailing leaves the web worker at once)."""
        ids = g.pop("queued_mail_ids", None)
        if ids and smtp_configured() and jobs.on_queue():
            try:
                jobs.enqueue("portal.mail.services.send_pending", ids)
            except jobs.QueueError:  # the outbox keeps them: ``flask mail send`` will
                app.logger.exception("e-mails %s left in the outbox: no queue", ids)
        elif ids and smtp_configured():

            def deliver():
                with app.app_context():
                    send_pending(ids)

            response.call_on_close(deliver)
        return response
