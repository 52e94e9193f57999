"""Participants of an operation: one htmx widget (add, invite by e-mail, withdraw).

Once a convention version is in force, an organisation added joins the convention by the
next amendment and a party withdrawn leaves by it (``pending.py``); the widget says so,
and a withdrawal waiting for the amendment can be cancelled."""

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import htmx
from portal.accounts.access import current_org, require
from portal.accounts.models import Organisation, OrgKind
from portal.core.actions import act, done
from portal.extensions import db
from portal.operations import bp, pending, queries, services
from portal.operations.access import can_steer, load_operation
from portal.operations.forms import AddParticipantForm, InviteOrganisationForm, ReasonForm
from portal.operations.models import Participant, ParticipantRole


def _candidates(operation) -> list[Organisation]:
    """Employers and partners not yet taking part."""
    taking_part = {p.organisation_id for p in operation.active_participants()}
    organisations = db.session.scalars(
        select(Organisation)
        .where(Organisation.kind.in_([OrgKind.EMPLOYER, OrgKind.PARTNER]))
        .order_by(Organisation.kind, Organisation.name)
    ).all()
    return [o for o in organisations if o.id not in taking_part]


def _add_form(operation, formdata=None) -> AddParticipantForm:
    form = AddParticipantForm(formdata=formdata)
    form.organisation_id.choices = [("", _("— Choisir —"))] + [
        (o.id, f"{o.name} ({o.kind.title})") for o in _candidates(operation)
    ]
    return form


def _render(operation_id: int, *, add_form=None, invite_form=None, error=None, status=200):
    operation = queries.load_for_page(operation_id)
    return htmx.render(
        "operations/participants.html",
        "operations/_participants.html",
        status,
        operation=operation,
        can_steer=can_steer(operation),
        amending=pending.amending(operation),
        add_form=add_form or _add_form(operation, formdata=None),
        invite_form=invite_form or InviteOrganisationForm(formdata=None),
        withdraw_form=ReasonForm(formdata=None),
        error=error,
    )


def _participant_or_404(operation, participant_id: int) -> Participant:
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.operation_id != operation.id:
        abort(404)
    return participant


def _done(operation_id: int, message: str):
    url = url_for("operations.list_participants", operation_id=operation_id)
    return done(message, url, lambda: _render(operation_id), announce=True)


@bp.get("/<int:operation_id>/participants")
@login_required
def list_participants(operation_id: int):
    """Who takes part, with their role, and who was withdrawn (history)."""
    load_operation(operation_id)
    return _render(operation_id)


@bp.post("/<int:operation_id>/participants")
@login_required
def add_participant(operation_id: int):
    """Associate an existing employer or partner with a role."""
    operation = load_operation(operation_id)
    require(can_steer(operation))
    form = _add_form(operation, formdata=request.form)
    if not form.validate_on_submit():
        return _render(operation_id, add_form=form, status=422)
    organisation = db.session.get(Organisation, form.organisation_id.data)
    role = ParticipantRole(form.role.data)
    return act(
        lambda: services.add_participant(
            operation, organisation, role, by=current_user, org=current_org()
        ),
        success=lambda _result: _done(
            operation_id, _("%(org)s est associé·e à l'opération.", org=organisation.name)
        ),
        failure=lambda refusal: _render(
            operation_id, add_form=form, error=refusal.message, status=422
        ),
    )


@bp.post("/<int:operation_id>/participants/invitation")
@login_required
def invite_organisation(operation_id: int):
    """Invite an organisation not yet in the portal (its first admin, by e-mail)."""
    operation = load_operation(operation_id)
    require(can_steer(operation))
    form = InviteOrganisationForm()
    if not form.validate_on_submit():
        return _render(operation_id, invite_form=form, status=422)
    role = ParticipantRole(form.role.data)
    return act(
        lambda: services.invite_new_organisation(
            operation,
            form.name.data,
            form.email.data,
            role,
            by=current_user,
            org=current_org(),
            siret=form.siret.data,
        ),
        success=lambda _result: _done(
            operation_id, _("Invitation envoyée à %(email)s.", email=form.email.data)
        ),
        failure=lambda refusal: _render(
            operation_id, invite_form=form, error=refusal.message, status=422
        ),
    )


@bp.post("/<int:operation_id>/participants/<int:participant_id>/retrait")
@login_required
def withdraw_participant(operation_id: int, participant_id: int):
    """Withdraw a participant (history kept); once a convention version is in force, a
    party leaves with the next amendment."""
    operation = load_operation(operation_id)
    require(can_steer(operation))
    participant = _participant_or_404(operation, participant_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _render(operation_id, error=_("Indiquez le motif du retrait."), status=422)

    def withdraw():
        services.withdraw_participant(
            participant, reason=form.reason.data, by=current_user, org=current_org()
        )
        return participant.is_leaving

    return act(
        withdraw,
        success=lambda leaving: _done(
            operation_id,
            _("Retrait enregistré : il prendra effet avec l'avenant, une fois validé.")
            if leaving
            else _("Participant retiré."),
        ),
        failure=lambda refusal: _render(operation_id, error=refusal.message, status=422),
    )


@bp.post("/<int:operation_id>/participants/<int:participant_id>/maintien")
@login_required
def keep_participant(operation_id: int, participant_id: int):
    """Cancel a withdrawal that waits for the amendment: the party stays."""
    operation = load_operation(operation_id)
    require(can_steer(operation))
    participant = _participant_or_404(operation, participant_id)
    return act(
        lambda: pending.keep_participant(participant, by=current_user, org=current_org()),
        success=lambda _result: _done(operation_id, _("Retrait annulé : l'organisation reste.")),
        failure=lambda refusal: _render(operation_id, error=refusal.message, status=422),
    )
