"""French error pages that also render inside an htmx swap.

A full disk (issue #17) is not a bug of the request: the database (SQLite « database or
disk is full », PostgreSQL's ``disk_full``, SQLSTATE 53100) or a document writer
(``ENOSPC``) refused to write. The transaction is rolled back, so nothing half-written
is kept, and the person reads a French 503 saying that their change was not saved, with
``Retry-After``; the portal serves again as soon as space is freed, with no restart.
"""

import errno

from flask import make_response
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal import htmx
from portal.extensions import db

MESSAGES = {
    400: (_l("Requête incorrecte"), _l("La demande n'a pas pu être comprise.")),
    403: (
        _l("Accès refusé"),
        _l("Vous n'avez pas accès à cette page avec l'organisation courante."),
    ),
    404: (_l("Page introuvable"), _l("Cette page n'existe pas ou n'existe plus.")),
    405: (_l("Action non permise"), _l("Cette action n'est pas possible ici.")),
    410: (_l("Lien expiré"), _l("Ce lien n'est plus valable.")),
    413: (_l("Fichier trop volumineux"), _l("Le fichier envoyé dépasse la taille autorisée.")),
    429: (_l("Trop de demandes"), _l("Patientez quelques instants avant de réessayer.")),
    503: (
        _l("Espace disque insuffisant"),
        _l(
            "Le serveur manque d'espace disque : votre modification n'a pas été enregistrée. "
            "Réessayez dans quelques minutes ; les données déjà enregistrées sont intactes."
        ),
    ),
    500: (
        _l("Erreur du serveur"),
        _l("Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez plus tard."),
    ),
}
CSRF_MESSAGE = _l(
    "Votre session a expiré ou le formulaire est trop ancien. Rechargez la page, "
    "puis recommencez : rien n'a été enregistré."
)


FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
DISK_FULL_SQLSTATE = "53100"  # PostgreSQL: disk_full
RETRY_AFTER_SECONDS = 120


def is_storage_full(error: BaseException) -> bool:
    """The database or the file system refused a write for lack of space."""
    if isinstance(error, OperationalError):
        original = error.orig
        if getattr(original, "sqlstate", None) == DISK_FULL_SQLSTATE:
            return True
        return "database or disk is full" in str(original).lower() or is_storage_full(original)
    return isinstance(error, OSError) and error.errno in FULL_ERRNOS


def render_error(status: int, message=None):
    """The error page, or its fragment swapped into the main region for htmx."""
    title, default = MESSAGES.get(status, MESSAGES[500])
    context = {"status": status, "title": title, "message": message or default}
    response = htmx.render("errors/error.html", "errors/_error.html", status, **context)
    if htmx.is_htmx():
        htmx.retarget(response, "#htmx-errors", "innerHTML")
    return response


def register_error_handlers(app) -> None:
    """Register the French handlers for CSRF, HTTP errors and unexpected exceptions."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code is None or error.code < 400:
            return error
        response = make_response(render_error(error.code))
        # Keep the headers the protocol asks for, such as Allow on a 405.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(InternalServerError)
    def server_error(error):
        db.session.rollback()
        app.logger.exception(
            "Unhandled error", exc_info=getattr(error, "original_exception", error)
        )
        return render_error(500)

    @app.errorhandler(OperationalError)
    @app.errorhandler(OSError)
    def storage_error(error):
        if not is_storage_full(error):
            raise error  # any other failure: the 500 above, as before this handler
        db.session.rollback()
        app.logger.error("Storage full, the request's writes were rolled back: %s", error)
        response = make_response(render_error(503))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
