"""The public verification page: anyone, without an account, checks a convention copy.

Either upload the file (DOCX or PDF, checked by its first bytes, hashed in memory and
never stored) or type the reference and the hash printed in the footers. Unknown
documents are counted per IP address, like failed logins, so the page cannot be used
to try references and hashes in bulk.
"""

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Regexp

from portal import htmx
from portal.accounts import throttle
from portal.conventions import public_bp, verification
from portal.core.forms import PortalForm
from portal.extensions import db

PAGE = "conventions/verify.html"
RESULT = "conventions/_verify_result.html"


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class VerifyFileForm(PortalForm):
    """A convention file to check."""

    file = FileField(
        _l("Fichier de la convention (DOCX ou PDF)"),
        validators=[FileRequired(_l("Choisissez le fichier à vérifier."))],
        render_kw={"accept": ".docx,.pdf"},
    )


class VerifyReferenceForm(PortalForm):
    """The reference and the hash printed at the foot of every page."""

    reference = StringField(
        _l("Référence de la convention"),
        filters=[_upper],
        validators=[
            DataRequired(_l("Indiquez la référence de la convention.")),
            Regexp(
                r"^DEFI-\d{4}-\d{4,}$",
                message=_l("La référence s'écrit DEFI-AAAA-NNNN, par exemple DEFI-2025-0042."),
            ),
        ],
    )
    digest = StringField(
        _l("Empreinte SHA-256"),
        filters=[lambda value: verification.normalise_hash(value) if value else value],
        validators=[
            DataRequired(_l("Indiquez l'empreinte imprimée en bas de page.")),
            Regexp(
                r"^[0-9a-f]{12,64}$",
                message=_l(
                    "L'empreinte compte de 12 à 64 caractères hexadécimaux (chiffres 0 à 9, "
                    "lettres a à f)."
                ),
            ),
        ],
    )


def _ip_key() -> str:
    return "verify:" + (request.remote_addr or "unknown")


def _blocked() -> bool:
    config = current_app.config
    window = config["LOGIN_WINDOW_SECONDS"]
    return throttle.backend().count(_ip_key(), window) >= config["VERIFY_MAX_UNKNOWN_PER_IP"]


def _page(status: int = 200, **context):
    context.setdefault("file_form", VerifyFileForm(formdata=None))
    context.setdefault("reference_form", VerifyReferenceForm(formdata=None))
    return htmx.render(PAGE, RESULT, status, **context)


@public_bp.route("/", methods=["GET", "POST"])
def verify():
    """Check a convention copy by its file or by its reference and hash (no login)."""
    if request.method == "GET":
        return _page()
    method = request.form.get("method")
    file_form = VerifyFileForm() if method == "file" else None
    reference_form = VerifyReferenceForm() if method == "reference" else None
    forms = {"file_form": file_form} if file_form is not None else {}
    if reference_form is not None:
        forms["reference_form"] = reference_form
    if _blocked():
        return _page(429, error=_("Trop de vérifications infructueuses : réessayez plus tard."))
    if file_form is not None and file_form.validate_on_submit():
        data = file_form.file.data.read()
        if verification.kind_of(data) is None:
            file_form.file.errors = [
                _(
                    "Ce fichier n'est ni un document Word (DOCX) ni un PDF : seuls les "
                    "exemplaires de convention édités par le portail peuvent être vérifiés."
                )
            ]
        else:
            return _answer(verification.find_by_file(data), **forms)
    elif reference_form is not None and reference_form.validate_on_submit():
        verdict = verification.find_by_reference(
            reference_form.reference.data, reference_form.digest.data
        )
        return _answer(verdict, **forms)
    errors = [
        message
        for form in forms.values()
        for name, messages in form.errors.items()
        if name != "csrf_token"
        for message in messages
    ]
    message = " ".join(str(e) for e in errors) or _(
        "Envoyez un fichier, ou saisissez une référence et une empreinte."
    )
    return _page(422, error=message, **forms)


def _answer(verdict, **forms):
    if verdict is None:
        throttle.backend().add(_ip_key(), current_app.config["LOGIN_WINDOW_SECONDS"])
        db.session.commit()
    return _page(verdict=verdict, searched=True, **forms)


@public_bp.errorhandler(413)
def too_large(_error):
    """The upload exceeds ``MAX_CONTENT_LENGTH``: say so on the page, in French."""
    megabytes = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = _(
        "Le fichier dépasse la taille autorisée (%(n)d Mo) : ce n'est pas un exemplaire de "
        "convention édité par le portail.",
        n=megabytes,
    )
    return _page(413, error=message)
