"""The operation's event log and who the Région tells: the bottom of the operations area.

Every area (design, conventions, recruitment, immersions…) writes its timeline events
and finds the referent through this module, so it imports nothing above the models.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind, Territory, User
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.services import region_admins
from portal.operations.models import Operation, OperationEvent


def region_organisation() -> Organisation:
    """The Région (one per portal)."""
    region = db.session.scalar(
        select(Organisation).where(Organisation.kind == OrgKind.REGION).order_by(Organisation.id)
    )
    if region is None:
        raise RuleError(_("Aucune organisation Région n'est définie dans le portail."))
    return region


def log_event(operation: Operation, kind: str, *, by: User | None, org=None, **detail):
    """Append an event to the operation's timeline (and the audit log)."""
    event = OperationEvent(
        operation_id=operation.id,
        actor_id=getattr(by, "id", None),
        organisation_id=getattr(org, "id", None),
        kind=kind,
        detail=detail,
    )
    db.session.add(event)
    record(f"operation.{kind}", actor=by, organisation=org, obj=operation, **detail)
    return event


def referents_for(territory: Territory) -> list[User]:
    """Who the Région must tell at once: the bassin's referent, else the Région's admins."""
    return [territory.referent] if territory.referent else region_admins()
