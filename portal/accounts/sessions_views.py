"""« Mes sessions » in « Mon compte » (list, end one, end all the others) and the
confirmation of identity before a sensitive action (``/connexion/confirmer``)."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from portal.accounts import bp, reauth, services, user_sessions
from portal.accounts.devices import device
from portal.accounts.forms import ConfirmIdentityForm, EmptyForm
from portal.core.actions import act, flash_redirect, form_page, form_refusal


@bp.get("/compte/sessions")
@login_required
def list_sessions():
    """The open sessions of the current user, this one marked."""
    user = current_user._get_current_object()
    current = g.get("user_session")  # loaded with the user (portal/accounts/access.py)
    rows = user_sessions.active_sessions(user)
    return render_template(
        "accounts/sessions.html",
        rows=rows,
        current_id=current.id if current else None,
        devices={row.id: device(row.user_agent) for row in rows},
        idle_minutes=user_sessions.idle_minutes(user),
        form=EmptyForm(),
    )


@bp.post("/compte/sessions/<int:user_session_id>/fin")
@login_required
def end_session(user_session_id: int):
    """End one of one's own sessions (another person's is not found: 404)."""
    user = current_user._get_current_object()
    row = user_sessions.own_session_or_none(user, user_session_id)
    if row is None:
        abort(404)
    return act(
        lambda: user_sessions.end_session(row, by=user),
        success=lambda _result: flash_redirect(
            _("Session terminée : elle sera déconnectée à sa prochaine action."),
            url_for("accounts.list_sessions"),
        ),
        failure=lambda refusal: flash_redirect(
            refusal.message, url_for("accounts.list_sessions"), "error"
        ),
    )


@bp.post("/compte/sessions/autres/fin")
@login_required
def end_other_sessions():
    """End every session of the current user except this one."""
    user = current_user._get_current_object()
    current = g.get("user_session")  # loaded with the user (portal/accounts/access.py)
    return act(
        lambda: user_sessions.end_other_sessions(user, keep=current),
        success=lambda ended: flash_redirect(
            ngettext("%(num)d autre session terminée.", "%(num)d autres sessions terminées.", ended)
            if ended
            else _("Aucune autre session n'était ouverte."),
            url_for("accounts.list_sessions"),
        ),
        failure=lambda refusal: flash_redirect(
            refusal.message, url_for("accounts.list_sessions"), "error"
        ),
    )


@bp.route("/connexion/confirmer", methods=["GET", "POST"])
@login_required
def confirm_identity():
    """The password again (and a code where enrolled), then back to the action."""
    user = current_user._get_current_object()
    form = ConfirmIdentityForm()
    if request.method == "GET":
        form.next.data = reauth.safe_next(request.args.get("next")) or ""
    next_url = reauth.safe_next(form.next.data) or url_for("core.home")

    def page(error: str | None = None):
        return form_page("accounts/confirm_identity.html", form=form, error=error)

    if not form.validate_on_submit():
        return page()

    def confirmed(_result):
        reauth.mark_authenticated()
        flash(_("Identité confirmée : vous pouvez continuer."), "success")
        return redirect(next_url, 303)

    return act(
        lambda: reauth.confirm(user, form.password.data, form.code.data),
        success=confirmed,
        failure=form_refusal(form, page, "password"),
        keep=(services.ThrottledRuleError,),  # the failure count stays: guessing is throttled
    )
