"""The public verification page: anyone, without an account, checks a convention copy or
an operation's archive.

Either upload the file (DOCX or PDF of a convention; the manifest ``manifeste.json`` or the
zip of an archive — checked by its first bytes, hashed in memory and never stored), or
type the reference and the hash printed in the convention's footers, or the hash of an
archive's manifest. Unknown documents are counted per IP address, like failed logins, so
the page cannot be used to try references and hashes in bulk.
"""

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Regexp

from portal import htmx
from portal.accounts import throttle
from portal.archive import verification as archives
from portal.conventions import public_bp, verification
from portal.core.forms import PortalForm
from portal.extensions import db

PAGE = "conventions/verify.html"
RESULT = "conventions/_verify_result.html"


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class VerifyFileForm(PortalForm):
    """A convention file, or an archive's manifest or zip, to check."""

    file = FileField(
        _l("Fichier à vérifier"),
        validators=[FileRequired(_l("Choisissez le fichier à vérifier."))],
        render_kw={"accept": ".docx,.pdf,.json,.zip"},
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


class VerifyManifestForm(PortalForm):
    """The SHA-256 of an archive's manifest, as ``manifeste.md`` prints it."""

    manifest_digest = StringField(
        _l("Empreinte SHA-256 du manifeste"),
        filters=[lambda value: verification.normalise_hash(value) if value else value],
        validators=[
            DataRequired(_l("Indiquez l'empreinte du manifeste.")),
            Regexp(
                r"^[0-9a-f]{64}$",
                message=_l(
                    "L'empreinte du manifeste compte 64 caractères hexadécimaux (chiffres 0 "
                    "à 9, lettres a à f)."
                ),
            ),
        ],
    )


FORMS = {
    "file": ("file_form", VerifyFileForm),
    "reference": ("reference_form", VerifyReferenceForm),
    "manifest": ("manifest_form", VerifyManifestForm),
}


def _ip_key() -> str:
    return "verify:" + (request.remote_addr or "unknown")


def _blocked() -> bool:
    config = current_app.config
    window = config["LOGIN_WINDOW_SECONDS"]
    return throttle.backend().count(_ip_key(), window) >= config["VERIFY_MAX_UNKNOWN_PER_IP"]


def _page(status: int = 200, **context):
    for name, form in FORMS.values():
        context.setdefault(name, form(formdata=None))
    return htmx.render(PAGE, RESULT, status, **context)


@public_bp.route("/", methods=["GET", "POST"])
def verify():
    """Check a convention copy or an archive by its file or by its hash (no login)."""
    if request.method == "GET":
        return _page()
    name, form_class = FORMS.get(request.form.get("method"), (None, None))
    forms = {name: form_class()} if name else {}
    form = forms.get(name)
    if _blocked():
        return _page(429, error=_("Trop de vérifications infructueuses : réessayez plus tard."))
    if name == "file_form" and form.validate_on_submit():
        data = form.file.data.read()
        if verification.kind_of(data) is not None:
            return _answer(verification.find_by_file(data), **forms)
        if archives.is_archive_file(data):
            return _answer(archives.find_by_file(data), key="archive_verdict", **forms)
        form.file.errors = [
            _(
                "Ce fichier n'est ni un document Word (DOCX) ni un PDF, ni le manifeste ou "
                "l'archive d'une opération : seuls les documents édités par le portail "
                "peuvent être vérifiés."
            )
        ]
    elif name == "reference_form" and form.validate_on_submit():
        verdict = verification.find_by_reference(form.reference.data, form.digest.data)
        return _answer(verdict, **forms)
    elif name == "manifest_form" and form.validate_on_submit():
        verdict = archives.find_by_hash(form.manifest_digest.data)
        return _answer(verdict, key="archive_verdict", **forms)
    errors = [
        message
        for posted in forms.values()
        for field_name, messages in posted.errors.items()
        if field_name != "csrf_token"
        for message in messages
    ]
    message = " ".join(str(e) for e in errors) or _(
        "Envoyez un fichier, ou saisissez une référence et une empreinte."
    )
    return _page(422, error=message, **forms)


def _answer(verdict, key: str = "verdict", **forms):
    if verdict is None:
        throttle.backend().add(_ip_key(), current_app.config["LOGIN_WINDOW_SECONDS"])
        db.session.commit()
    return _page(searched=True, **{key: verdict}, **forms)


@public_bp.errorhandler(413)
def too_large(_error):
    """The upload exceeds ``MAX_CONTENT_LENGTH``: say so on the page, in French."""
    megabytes = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = _(
        "Le fichier dépasse la taille autorisée (%(n)d Mo). Pour l'archive d'une opération, "
        "déposez son manifeste (manifeste.json) ou saisissez l'empreinte de celui-ci.",
        n=megabytes,
    )
    return _page(413, error=message)
