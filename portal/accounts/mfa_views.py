"""« Double authentification » in « Mon compte »: enrol (scan the QR code, confirm with a
first code, keep the recovery codes shown once) and disable (password and a code).

The QR code is inline SVG made by segno on the server: no script, no style, nothing
fetched, so the strict CSP holds. The recovery codes are shown in the answer to the
confirmation itself, never stored in clear nor carried over a redirect.
"""

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import bp, mfa, reauth, services
from portal.accounts.forms import CodeForm, DisableMfaForm, EmptyForm
from portal.core.actions import act, act_and_redirect, flash_redirect, form_refusal


def _settings_page(confirm_form=None, disable_form=None, status=200):
    user = current_user._get_current_object()
    pending = not user.has_totp and bool(user.totp_secret)
    return render_template(
        "accounts/mfa.html",
        pending=pending,
        qr=mfa.qr_svg(user) if pending else None,
        secret=mfa.grouped(user.totp_secret) if pending else "",
        required=mfa.required(user),
        remaining=mfa.remaining_recovery_codes(user) if user.has_totp else 0,
        confirm_form=confirm_form or CodeForm(formdata=None),
        disable_form=disable_form or DisableMfaForm(formdata=None),
        button_form=EmptyForm(),
    ), status


def _confirm_identity_first():
    """Enrolling is changing the second factor: the password again past REAUTH_MINUTES
    (disabling asks for the password and a code in its own form)."""
    return reauth.required(current_user._get_current_object(), url_for("accounts.mfa_settings"))


@bp.get("/compte/double-authentification")
@login_required
def mfa_settings():
    """The second factor's state, and what to do next: enrol, confirm, or disable it."""
    return _settings_page()


@bp.post("/compte/double-authentification/debut")
@login_required
def start_mfa():
    """Make a new secret to scan (the previous, unconfirmed one is forgotten)."""
    confirm_first = _confirm_identity_first()
    if confirm_first:
        return confirm_first
    return act_and_redirect(
        lambda: mfa.start_enrolment(current_user._get_current_object()),
        url_for("accounts.mfa_settings"),
        _("Scannez le code QR avec votre application, puis saisissez le code qu'elle affiche."),
    )


@bp.post("/compte/double-authentification/confirmation")
@login_required
def confirm_mfa():
    """The first code confirms the enrolment; the recovery codes are shown, once."""
    confirm_first = _confirm_identity_first()
    if confirm_first:
        return confirm_first
    form = CodeForm()
    if not form.validate_on_submit():
        return _settings_page(confirm_form=form, status=422)
    return act(
        lambda: mfa.confirm_enrolment(current_user._get_current_object(), form.code.data),
        success=lambda codes: render_template("accounts/mfa_recovery_codes.html", codes=codes),
        failure=form_refusal(
            form, lambda _message: _settings_page(confirm_form=form, status=422), "code"
        ),
        keep=(services.ThrottledRuleError,),  # the audit event of the failure
    )


@bp.post("/compte/double-authentification/desactivation")
@login_required
def disable_mfa():
    """Turn the second factor off, with the password and a code."""
    form = DisableMfaForm()
    if not form.validate_on_submit():
        return _settings_page(disable_form=form, status=422)
    return act(
        lambda: mfa.disable(
            current_user._get_current_object(), form.current_password.data, form.code.data
        ),
        success=lambda _result: flash_redirect(
            _("Double authentification désactivée."), url_for("accounts.mfa_settings")
        ),
        failure=form_refusal(
            form, lambda _message: _settings_page(disable_form=form, status=422), "code"
        ),
        keep=(services.ThrottledRuleError,),  # the failure count stays: guessing is throttled
    )
