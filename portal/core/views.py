"""Home page per role and the health check."""

from flask import jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from portal.accounts.access import can_manage, current_membership, current_org
from portal.accounts.forms import EmptyForm
from portal.accounts.models import Invitation, OrgKind, Territory
from portal.core import bp
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.models import Funding, Operation, Status
from portal.operations.queries import Filters, operations_query
from portal.todo.context import duties_page

HOME_TEMPLATES = {
    OrgKind.REGION: "core/home_region.html",
    OrgKind.PROVIDER: "core/home_provider.html",
    OrgKind.EMPLOYER: "core/home_employer.html",
    OrgKind.PARTNER: "core/home_partner.html",
}


def _pending(*conditions):
    return db.session.scalars(
        select(Invitation)
        .where(
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
            *conditions,
        )
        .options(joinedload(Invitation.organisation), joinedload(Invitation.invited_by))
        .order_by(Invitation.created_at.desc())
    ).all()


HOME_OPERATIONS = 10
HOME_DUTIES = 10


def _operations(*conditions):
    """Up to ten visible operations matching ``conditions``, newest first."""
    # what the rows display in the same query rather than one more each (many-to-one)
    query = operations_query(Filters(), load=joinedload).where(*conditions)
    return db.session.scalars(query.limit(HOME_OPERATIONS)).all()


@bp.get("/")
@login_required
def home():
    """The home page of the current organisation's role."""
    organisation = current_org()
    membership = current_membership()
    sent = (
        _pending(Invitation.organisation_id == organisation.id) if can_manage(organisation) else []
    )
    received = [
        i
        for i in _pending(Invitation.email == current_user.email)
        if i.organisation_id not in {m.organisation_id for m in current_user.active_memberships()}
    ]
    context = {
        "organisation": organisation,
        "membership": membership,
        "memberships": current_user.active_memberships(),
        "sent_invitations": sent,
        "received_invitations": received,
        "button_form": EmptyForm(),
        "duties_page": duties_page(per_page=HOME_DUTIES),
    }
    if organisation.kind == OrgKind.REGION:
        context["territories"] = db.session.scalars(
            select(Territory).options(joinedload(Territory.referent)).order_by(Territory.name)
        ).all()
        context["new_needs"] = _operations(
            Operation.acknowledged_at.is_(None), Operation.status != Status.CANCELLED
        )
        context["pending_decisions"] = _operations(Operation.funding == Funding.PENDING)
    elif not (organisation.kind == OrgKind.EMPLOYER and membership.is_tutor):
        # A tutor's home shows their trainees in immersion, not the operations.
        context["operations"] = _operations(Operation.status != Status.CANCELLED)
    return render_template(HOME_TEMPLATES[organisation.kind], **context)


@bp.get("/healthz")
def healthz():
    """Liveness and database state, for monitoring."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        return jsonify(status="error", database="unreachable", error=type(exc).__name__), 503
    return jsonify(status="ok", database="ok", dialect=db.engine.dialect.name)
