"""Routes of the accounts area: thin — load, authorise, validate, call a service, commit."""

import time

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import (
    bp,
    email_changes,
    invitations,
    mfa,
    reauth,
    resets,
    services,
    user_sessions,
)
from portal.accounts.forms import (
    AcceptInvitationForm,
    ChangeEmailForm,
    ChangePasswordForm,
    CodeForm,
    EmptyForm,
    JoinWithAccountForm,
    LanguageForm,
    LoginForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileForm,
    SwitchOrganisationForm,
)
from portal.accounts.models import User
from portal.accounts.reauth import safe_next
from portal.core.actions import act, form_page, form_refusal
from portal.core.errors import RuleError
from portal.extensions import db

# The session of someone whose password was accepted and whose second factor is awaited:
# who, which session generation, until when, and where to go next. Not logged in yet.
PENDING_LOGIN = "mfa_pending"

LINK_MESSAGES = {
    services.LinkProblem.UNKNOWN: _l(
        "Ce lien n'est pas valide. Vérifiez que vous avez copié l'adresse complète "
        "depuis le courriel, ou demandez un nouveau lien."
    ),
    services.LinkProblem.USED: _l("Ce lien a déjà été utilisé : il ne sert qu'une fois."),
    services.LinkProblem.EXPIRED: _l(
        "Ce lien n'est plus valable : il a expiré (il est valable 14 jours) ou un lien plus "
        "récent l'a remplacé."
    ),
    services.LinkProblem.REVOKED: _l("Cette invitation a été annulée par l'organisation."),
}


def _link_problem(problem: str, message: str | None = None):
    """The French page for an unusable link: 404 when forged, 410 when used or expired."""
    status = 404 if problem == services.LinkProblem.UNKNOWN else 410
    message = message or LINK_MESSAGES[problem]
    return render_template("accounts/link_problem.html", message=message), status


def _start_session(user) -> None:
    """Renew the session at login: nothing from before survives (session fixation). The
    login is recorded (« Mes sessions ») and committed here, whatever committed before."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)
    user_sessions.open_session(user)
    reauth.mark_authenticated()
    db.session.commit()


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")

    def page(error: str | None = None):
        status = 200 if request.method == "GET" or (form.errors == {} and not error) else 422
        return render_template("accounts/login.html", form=form, error=error), status

    if not form.validate_on_submit():
        return page()
    return act(
        lambda: services.authenticate(form.email.data, form.password.data),
        success=lambda user: _password_accepted(user, form.next.data),
        failure=lambda refusal: page(refusal.message),
        keep=(RuleError,),  # keep the failure count and the audit event
    )


def _password_accepted(user: User, next_url: str | None):
    """Log in, or with a second factor enrolled, ask for a code first (not logged in yet)."""
    if not user.has_totp:
        return _logged_in(user, next_url)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[PENDING_LOGIN] = {
        "user_id": user.id,
        "generation": user.session_generation,
        "until": time.time() + current_app.config["MFA_PENDING_SECONDS"],
        "next": safe_next(next_url) or "",
    }
    return redirect(url_for("accounts.login_code"))


def _pending_user() -> User | None:
    """The person whose password was just accepted, while the wait for their code lasts."""
    pending = session.get(PENDING_LOGIN)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    user = db.session.get(User, pending.get("user_id"))
    if (
        user is None
        or not user.is_enabled
        or not user.has_totp
        or user.session_generation != pending.get("generation")
    ):
        return None
    return user


@bp.route("/connexion/code", methods=["GET", "POST"])
def login_code():
    """Second step of a login: a code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    user = _pending_user()
    if user is None:
        if session.pop(PENDING_LOGIN, None) is not None:
            flash(_("Votre connexion a expiré : saisissez de nouveau votre mot de passe."), "error")
        return redirect(url_for("accounts.login"))
    form = CodeForm()

    def page(error: str | None = None):
        return form_page("accounts/login_code.html", form=form, error=error)

    if not form.validate_on_submit():
        return page()
    next_url = session[PENDING_LOGIN].get("next")
    return act(
        lambda: mfa.verify_login(user, form.code.data),
        success=lambda _method: _logged_in(user, next_url),
        failure=form_refusal(form, page, "code"),
        keep=(RuleError,),  # keep the failure count and the audit event
    )


def _logged_in(user, next_url: str | None):
    _start_session(user)
    flash(_("Bienvenue, %(name)s.", name=user.first_name), "success")
    if mfa.must_enrol(user):
        return redirect(url_for("accounts.mfa_settings"))
    return redirect(safe_next(next_url) or url_for("core.home"))


@bp.post("/deconnexion")
@login_required
def logout():
    """Log out here and on every other device."""
    services.end_all_sessions(current_user._get_current_object(), reason="logout")
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Vous êtes déconnecté·e sur tous vos appareils."), "success")
    return redirect(url_for("accounts.login"))


@bp.post("/organisation-courante")
@login_required
def switch_organisation():
    """Change the organisation the user acts for."""
    form = SwitchOrganisationForm()
    if form.validate_on_submit():
        ids = {m.organisation_id for m in current_user.active_memberships()}
        if form.organisation_id.data not in ids:
            abort(403)
        session["org_id"] = form.organisation_id.data
        flash(_("Organisation courante changée."), "success")
    return redirect(url_for("core.home"))


@bp.post("/langue")
def set_language():
    """Switch the interface language (French by default)."""
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in ("fr", "en"):
        session["lang"] = form.lang.data
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Accept an invitation: set name and password, or confirm an existing account."""
    invitation, problem = invitations.find_invitation(token)
    if problem:
        return _link_problem(problem)
    existing = services.user_by_email(invitation.email)
    form = JoinWithAccountForm() if existing else AcceptInvitationForm()
    if not existing:
        form.policy_email = invitation.email

    def page(error: str | None = None):
        return form_page(
            "accounts/accept_invitation.html",
            form=form,
            invitation=invitation,
            existing=existing,
            error=error,
        )

    def accept():
        if existing:
            return invitations.accept_invitation(invitation, password=form.password.data)
        return invitations.accept_invitation(
            invitation,
            first_name=form.first_name.data,
            last_name=form.last_name.data,
            phone=form.phone.data or "",
            password=form.password.data,
        )

    if not form.validate_on_submit():
        return page()
    return act(
        accept,
        success=lambda user: _joined(user, invitation),
        failure=lambda refusal: page(refusal.message),
        keep=(invitations.ThrottledRuleError,),  # the failure count: guessing is throttled here too
    )


def _joined(user, invitation):
    if current_user.is_authenticated:
        logout_user()
    if user.has_totp:  # an existing account's password is not enough: its code first
        response = _password_accepted(user, None)
    else:
        _start_session(user)
        session["org_id"] = invitation.organisation_id
        response = redirect(url_for("core.home"))
    flash(_("Vous avez rejoint %(org)s.", org=invitation.organisation.name), "success")
    return response


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link; the answer is the same whether the account exists or not."""
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        try:
            resets.request_password_reset(form.email.data)
        except RuleError as exc:
            db.session.commit()  # keep the audit event
            form.email.errors = [exc.message]
            return render_template("accounts/forgot_password.html", form=form), 429
        db.session.commit()
        flash(
            _(
                "Si un compte existe pour cette adresse, un courriel vient de lui être envoyé "
                "avec un lien pour choisir un nouveau mot de passe."
            ),
            "success",
        )
        return redirect(url_for("accounts.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a reset link."""
    reset, problem = resets.find_password_reset(token)
    if problem:
        return _link_problem(problem)
    form = PasswordResetForm()
    form.policy_email = reset.user.email
    if form.validate_on_submit():
        resets.reset_password(reset, form.password.data)
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("Votre mot de passe a été changé. Connectez-vous avec le nouveau."), "success")
        return redirect(url_for("accounts.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/reset_password.html", form=form), status


def _account_page(profile_form=None, password_form=None, email_form=None, status=200):
    user = current_user
    if profile_form is None:
        profile_form = ProfileForm(formdata=None, obj=user)
    if password_form is None:
        password_form = ChangePasswordForm(formdata=None)
    if email_form is None:
        email_form = ChangeEmailForm(formdata=None, prefix="address")
    return render_template(
        "accounts/account.html",
        profile_form=profile_form,
        password_form=password_form,
        email_form=email_form,
    ), status


@bp.route("/compte", methods=["GET", "POST"])
@login_required
def account():
    """One's own account: name and phone."""
    if request.method == "GET":
        return _account_page()
    form = ProfileForm()
    if not form.validate_on_submit():
        return _account_page(profile_form=form, status=422)
    services.update_profile(
        current_user,
        first_name=form.first_name.data,
        last_name=form.last_name.data,
        phone=form.phone.data or "",
    )
    db.session.commit()
    flash(_("Vos informations ont été enregistrées."), "success")
    return redirect(url_for("accounts.account"), 303)


@bp.post("/compte/mot-de-passe")
@login_required
def change_password():
    """Change one's password; other devices are logged out, this one stays. The current
    password is asked in the form; a second factor's code, past REAUTH_MINUTES, first."""
    user = current_user._get_current_object()
    confirm_first = reauth.required(user, url_for("accounts.account"), password_in_form=True)
    if confirm_first:
        return confirm_first
    form = ChangePasswordForm()
    form.policy_email = current_user.email
    if not form.validate_on_submit():
        return _account_page(password_form=form, status=422)
    return act(
        lambda: services.change_password(user, form.current_password.data, form.password.data),
        success=lambda _result: _password_changed(user),
        failure=form_refusal(
            form, lambda _message: _account_page(password_form=form, status=422), "password"
        ),
        keep=(services.ThrottledRuleError,),  # the failure count stays: guessing is throttled
    )


def _password_changed(user):
    org_id = session.get("org_id")
    _start_session(user)  # a fresh session carrying the new generation
    session["org_id"] = org_id
    flash(_("Mot de passe changé. Vos autres sessions ont été fermées."), "success")
    return redirect(url_for("accounts.account"), 303)


@bp.post("/compte/adresse")
@login_required
def change_email():
    """Ask to change one's login address: a link goes to the new one, which changes only
    once confirmed. The current password is asked in the form; a second factor's code, past
    REAUTH_MINUTES, first."""
    user = current_user._get_current_object()
    confirm_first = reauth.required(user, url_for("accounts.account"), password_in_form=True)
    if confirm_first:
        return confirm_first
    form = ChangeEmailForm(prefix="address")
    if not form.validate_on_submit():
        return _account_page(email_form=form, status=422)
    return act(
        lambda: email_changes.request_email_change(
            user, form.email.data, form.current_password.data
        ),
        success=lambda change: _email_change_sent(change.new_email),
        failure=form_refusal(
            form, lambda _message: _account_page(email_form=form, status=422), "email"
        ),
        keep=(services.ThrottledRuleError,),  # the failure count stays: guessing is throttled
    )


def _email_change_sent(new_email: str):
    flash(
        _(
            "Un lien de confirmation a été envoyé à %(new)s. Votre adresse de connexion ne "
            "change qu'une fois ce lien ouvert ; en attendant, elle reste %(old)s.",
            new=new_email,
            old=current_user.email,
        ),
        "success",
    )
    return redirect(url_for("accounts.account"), 303)


EMAIL_CHANGE_EXPIRED = _l(
    "Ce lien n'est plus valable : il a expiré ou une demande plus récente l'a remplacé. "
    "Demandez un nouveau changement depuis « Mon compte »."
)


@bp.route("/compte/nouvelle-adresse/<token>", methods=["GET", "POST"])
@login_required
def confirm_email_change(token: str):
    """Open the link mailed to the new address (logged in as the person who asked), then
    confirm: the login address changes and every other session ends."""
    change, problem = email_changes.find_email_change(token)
    if problem:
        expired = problem == services.LinkProblem.EXPIRED
        return _link_problem(problem, EMAIL_CHANGE_EXPIRED if expired else None)
    user = current_user._get_current_object()
    if change.user_id != user.id:
        abort(404)  # another account's link: as if it did not exist
    form = EmptyForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("accounts/confirm_email.html", change=change, form=form)
    return act(
        lambda: email_changes.confirm_email_change(change, user),
        success=lambda _old: _email_changed(user),
        failure=lambda refusal: _link_problem(services.LinkProblem.USED, refusal.message),
    )


def _email_changed(user):
    org_id = session.get("org_id")
    _start_session(user)  # a fresh session carrying the new generation
    session["org_id"] = org_id
    flash(
        _(
            "Votre adresse de connexion est désormais %(new)s. Vos autres sessions ont été "
            "fermées.",
            new=user.email,
        ),
        "success",
    )
    return redirect(url_for("accounts.account"), 303)
