"""Members and invitations of one organisation: one widget that htmx updates in place."""

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import htmx
from portal.accounts import invitations, services
from portal.accounts.access import can_manage, can_view_members, decides_tutors, require
from portal.accounts.forms import EmptyForm
from portal.accounts.models import Invitation, Membership, Organisation, OrgKind
from portal.core.actions import act, done, flash_redirect, form_refusal
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.pagination import paginate
from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions import tutoring
from portal.organisations import bp
from portal.organisations.forms import InviteMemberForm

# The history shows the latest departures; the audit log keeps all of them.
FORMER_MEMBERS_SHOWN = 20


def _tutors_by_own_admins() -> str:
    return _("Seul·es les administrateur·rices de l'entreprise désignent ses tuteur·rices.")


def _load_organisation(org_id: int, *, manage: bool = False) -> Organisation:
    organisation = db.get_or_404(Organisation, org_id)
    require(can_manage(organisation) if manage else can_view_members(organisation))
    return organisation


def _members_context(
    organisation: Organisation, form: InviteMemberForm | None = None, error=None, notice=None
):
    active = paginate(
        select(Membership)
        .where(Membership.organisation_id == organisation.id, Membership.active.is_(True))
        .options(selectinload(Membership.user))
        .order_by(Membership.id)
    )
    former = db.session.scalars(
        select(Membership)
        .where(Membership.organisation_id == organisation.id, Membership.active.is_(False))
        .options(selectinload(Membership.user), selectinload(Membership.deactivated_by))
        .order_by(Membership.deactivated_at.desc())
        .limit(FORMER_MEMBERS_SHOWN)
    ).all()
    pending = db.session.scalars(
        select(Invitation)
        .where(
            Invitation.organisation_id == organisation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .options(selectinload(Invitation.invited_by))
        .order_by(Invitation.created_at.desc())
    ).all()
    return {
        "organisation": organisation,
        "active_members": active.items,
        "pagination": active,
        "former_members": former,
        "invitations": pending,
        "can_manage": can_manage(organisation),
        "decides_tutors": decides_tutors(organisation),
        "form": form or InviteMemberForm(),
        "button_form": EmptyForm(),
        "error": error,
        "notice": notice,
    }


def _members_response(organisation, form=None, error=None, status=200, notice=None):
    return htmx.render(
        "organisations/members.html",
        "organisations/_members.html",
        status,
        **_members_context(organisation, form, error, notice),
    )


@bp.get("/<int:org_id>/membres")
@login_required
def list_members(org_id: int):
    """Members (current and former) and pending invitations of an organisation."""
    return _members_response(_load_organisation(org_id))


@bp.post("/<int:org_id>/invitations")
@login_required
def invite_member(org_id: int):
    """Invite someone by e-mail to join the organisation."""
    organisation = _load_organisation(org_id, manage=True)
    form = InviteMemberForm()
    if not form.validate_on_submit():
        return _members_response(organisation, form, status=422)
    if (
        form.is_tutor.data
        and organisation.kind == OrgKind.EMPLOYER
        and not decides_tutors(organisation)
    ):
        return _members_response(organisation, form, error=_tutors_by_own_admins(), status=422)
    return act(
        lambda: invitations.invite(
            form.email.data,
            organisation,
            by=current_user,
            is_admin=form.is_admin.data,
            is_tutor=form.is_tutor.data and organisation.kind == OrgKind.EMPLOYER,
        ),
        success=lambda _result: _after_change(
            organisation,
            _("Invitation envoyée à %(email)s.", email=form.email.data.strip().lower()),
        ),
        failure=form_refusal(
            form, lambda _message: _members_response(organisation, form, status=422), "email"
        ),
    )


def _after_change(organisation: Organisation, notice: str):
    """htmx: re-render the widget (with the notice); plain form: flash and redirect (PRG)."""
    return done(
        notice,
        url_for("organisations.list_members", org_id=organisation.id),
        lambda: _members_response(
            organisation, form=InviteMemberForm(formdata=None), notice=notice
        ),
    )


def _apply(organisation: Organisation, action, notice: str):
    """A button of the widget: ``act``; a refusal is shown in the widget (htmx, 422) or
    flashed on the members page."""
    if not EmptyForm().validate_on_submit():
        abort(400)

    def refused(refusal: RuleError):
        if htmx.is_htmx():
            return _members_response(organisation, error=refusal.message, status=422)
        url = url_for("organisations.list_members", org_id=organisation.id)
        return flash_redirect(refusal.message, url, "error")

    return act(action, success=lambda _result: _after_change(organisation, notice), failure=refused)


@bp.post("/<int:org_id>/invitations/<int:invitation_id>/annulation")
@login_required
def revoke_invitation(org_id: int, invitation_id: int):
    """Cancel a pending invitation."""
    organisation = _load_organisation(org_id, manage=True)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != organisation.id:
        abort(404)
    return _apply(
        organisation,
        lambda: invitations.revoke_invitation(invitation, by=current_user),
        _("Invitation annulée."),
    )


def _load_membership(organisation: Organisation, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation.id:
        abort(404)
    return membership


@bp.post("/<int:org_id>/membres/<int:membership_id>/desactivation")
@login_required
def deactivate_member(org_id: int, membership_id: int):
    """Remove a member from the organisation (kept in the history)."""
    organisation = _load_organisation(org_id, manage=True)
    membership = _load_membership(organisation, membership_id)
    return _apply(
        organisation,
        lambda: services.deactivate_membership(membership, by=current_user),
        _("%(name)s est désactivé·e ; ses sessions sont fermées.", name=membership.user.full_name),
    )


@bp.post("/<int:org_id>/membres/<int:membership_id>/administration")
@login_required
def toggle_admin(org_id: int, membership_id: int):
    """Grant or withdraw the admin role of a member."""
    organisation = _load_organisation(org_id, manage=True)
    membership = _load_membership(organisation, membership_id)
    make_admin = request.form.get("is_admin") == "1"
    return _apply(
        organisation,
        lambda: services.set_admin(membership, make_admin, by=current_user),
        _("Rôle %(of_name)s mis à jour.", of_name=de(membership.user.full_name)),
    )


@bp.post("/<int:org_id>/membres/<int:membership_id>/tutorat")
@login_required
def toggle_tutor(org_id: int, membership_id: int):
    """Mark a member of an employer as tutor, or withdraw the role."""
    organisation = _load_organisation(org_id, manage=True)
    if organisation.kind == OrgKind.EMPLOYER and not decides_tutors(organisation):
        abort(403)
    membership = _load_membership(organisation, membership_id)
    make_tutor = request.form.get("is_tutor") == "1"
    return _apply(
        organisation,
        lambda: tutoring.set_tutor_role(membership, make_tutor, by=current_user),
        _("%(name)s est désormais tuteur·rice.", name=membership.user.full_name)
        if make_tutor
        else _("%(name)s n'est plus tuteur·rice.", name=membership.user.full_name),
    )
