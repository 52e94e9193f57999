"""Acting on a version: sign it (consent + password, and a code with a second factor),
remind a signer, and the Région's validation or rejection.

Each route answers htmx with the signatures block of the version page
(``conventions/_signatures.html``) and a plain form with a redirect (303), or with the
page and its errors. A signature needs the password again: a wrong one is counted by the
login throttle like a failed login, and nothing else is written.
"""

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts import mfa, reauth
from portal.accounts import services as accounts
from portal.accounts.access import current_org, require
from portal.audit.services import record
from portal.conventions import bp, reminders, services
from portal.conventions.context import load_started
from portal.conventions.forms import RejectVersionForm, SignForm, ValidateVersionForm
from portal.conventions.signing import AUTH_PASSWORD, AUTH_PASSWORD_TOTP
from portal.conventions.version_context import PAGE, SIGNATURES, version_context, version_or_404
from portal.core.actions import act, done, field_error
from portal.core.errors import RuleError
from portal.extensions import db
from portal.operations.access import is_region


def _load(operation_id: int, number: int):
    operation, convention = load_started(operation_id)
    return operation, convention, version_or_404(convention, number)


def _respond(operation, convention, version, *, status: int = 200, **extra):
    """htmx: the signatures block; a plain request: the version page."""
    forms = {k: extra.pop(k) for k in ("sign_form", "validate_form", "reject_form") if k in extra}
    context = version_context(operation, convention, version, **forms)
    return htmx.render(PAGE, SIGNATURES, status, **context, **extra)


def _done(operation, convention, version, notice: str, *, page: str = "conventions.show_version"):
    """After a change: htmx re-renders the block with the notice; a form is redirected."""
    if page == "conventions.show_convention":
        url = url_for(page, operation_id=operation.id)
    else:
        url = url_for(page, operation_id=operation.id, number=version.number)
    return done(
        notice, url, lambda: _respond(operation, convention, version, signatures_notice=notice)
    )


def _refused(operation, convention, version):
    """The answer to a refusal once the form is sent (409), above the table since the form
    may be gone: the version closed meanwhile (a new one, the Région's decision), or, as a
    mere notice, the organisation signed it already (a double click, a race)."""

    def answer(refusal: RuleError):
        signed = isinstance(refusal, services.AlreadySigned)
        said = {"signatures_notice" if signed else "signatures_error": refusal.message}
        return _respond(operation, convention, version, status=409, **said)

    return answer


def _reauthenticate(password: str, code: str) -> str | None:
    """Check the current user's password, and their second factor's code where one is
    enrolled: the signature's own re-authentication (issue #17), however recent the login,
    so nothing is asked twice. A failure counts like a failed login, but only the user's own
    failures from this IP can refuse it (issue #11 L12).

    Returns the French reason of a refusal, or None when the password (and code) is right.
    """
    try:
        accounts.reauthenticate(
            current_user,
            password,
            wrong=_("Mot de passe incorrect : la signature n'est pas enregistrée."),
        )
        if current_user.has_totp:
            if not (code or "").strip():
                raise RuleError(_("Saisissez le code affiché par votre application."))
            mfa.confirm_code(current_user, code)
    except RuleError as exc:
        return exc.message
    reauth.mark_authenticated()
    return None


@bp.post("/versions/<int:number>/signature")
@login_required
def sign_version(operation_id: int, number: int):
    """The designated signer of the current organisation signs the version."""
    operation, convention, version = _load(operation_id, number)
    org = current_org()
    designation = services.signer_for(convention, org.id)
    require(designation is not None and designation.user_id == current_user.id)
    form = SignForm(prefix="sign")
    if not form.validate_on_submit():
        return _respond(operation, convention, version, status=422, sign_form=form)
    expected = services.consent_text(version, org, designation.capacity)
    if form.consent_text.data != expected:
        form.consent.data = False
        error = _("Le texte du consentement a changé : relisez-le, puis signez de nouveau.")
        return _respond(
            operation, convention, version, status=409, sign_form=form, sign_error=error
        )
    refusal = _reauthenticate(form.password.data, form.code.data)
    if refusal:
        record(
            "convention.reauthentication_failed",
            actor=current_user,
            organisation=org,
            obj=version,
            number=version.number,
        )
        db.session.commit()  # keep the failure count and its trace; nothing is signed
        return _respond(
            operation, convention, version, status=422, sign_form=form, sign_error=refusal
        )
    evidence = services.Evidence(
        ip=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
        auth_method=AUTH_PASSWORD_TOTP if current_user.has_totp else AUTH_PASSWORD,
    )
    notice = _(
        "Votre signature pour %(org)s est enregistrée sur la version %(n)s.",
        org=org.name,
        n=version.number,
    )
    return act(
        lambda: services.sign(
            version, user=current_user, organisation=org, consent=expected, evidence=evidence
        ),
        success=lambda _result: _done(operation, convention, version, notice),
        failure=_refused(operation, convention, version),
    )


@bp.post("/versions/<int:number>/relance/<int:org_id>")
@login_required
def remind_signer(operation_id: int, number: int, org_id: int):
    """Anyone in the operation reminds a party's signer (at most once a day per signer)."""
    operation, convention, version = _load(operation_id, number)
    return act(
        lambda: (
            reminders.send_manual_reminder(
                version, org_id, by=current_user, by_org=current_org()
            ).user.full_name
        ),
        success=lambda name: _done(
            operation, convention, version, _("Relance envoyée à %(who)s.", who=name)
        ),
        failure=_refused(operation, convention, version),
    )


@bp.post("/versions/<int:number>/validation")
@login_required
def validate_version(operation_id: int, number: int):
    """The Région validates a version signed by every party."""
    operation, convention, version = _load(operation_id, number)
    require(is_region())
    form = ValidateVersionForm(prefix="validate")
    if not form.validate_on_submit():
        return _respond(operation, convention, version, status=422, validate_form=form)
    notice = (
        _(
            "Avenant validé : la version %(n)s est en vigueur, avec les changements qu'elle "
            "porte (formation, promesses, parties).",
            n=version.number,
        )
        if version.is_amendment
        else _(
            "Version %(n)s validée par la Région : l'opération peut passer au recrutement.",
            n=version.number,
        )
    )
    return act(
        lambda: services.validate(
            version, by=current_user, org=current_org(), comment=(form.comment.data or "").strip()
        ),
        success=lambda _result: _done(operation, convention, version, notice),
        failure=_refused(operation, convention, version),
    )


@bp.post("/versions/<int:number>/rejet")
@login_required
def reject_version(operation_id: int, number: int):
    """The Région sends the version back to drafting, with its reason."""
    operation, convention, version = _load(operation_id, number)
    require(is_region())
    form = RejectVersionForm(prefix="reject")
    if not form.validate_on_submit():
        return _respond(operation, convention, version, status=422, reject_form=form)
    notice = _(
        "Version %(n)s rejetée : la convention revient au brouillon, les parties sont prévenues.",
        n=version.number,
    )
    refused_version = _refused(operation, convention, version)

    def refused(refusal: RuleError):
        if refusal.field == "reason":
            field_error(form, refusal)
            return _respond(operation, convention, version, status=422, reject_form=form)
        return refused_version(refusal)

    return act(
        lambda: services.reject(
            version, by=current_user, org=current_org(), reason=form.reason.data
        ),
        success=lambda _result: _done(
            operation, convention, version, notice, page="conventions.show_convention"
        ),
        failure=refused,
    )
