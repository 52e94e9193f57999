"""Reminders of the employment follow-up (run by ``flask reminders send``).

The organisme porteur, who committed to the follow-up in the convention, is reminded by
e-mail and in the portal: once when a follow-up becomes « à faire » (its window opens
before the due date), then again every ``FOLLOWUP_REMINDER_COOLDOWN_DAYS`` while it is
« en retard » or waits for a reconciliation. A +6 months follow-up still missing
``FOLLOWUP_ESCALATION_DAYS`` days after its due date is reported once to the territorial
referent. One message per operation and kind of reminder, naming the trainees.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from portal.core.time import paris_day, utcnow
from portal.extensions import db
from portal.followup import rules
from portal.followup.models import Milestone, MilestoneKind, MilestoneStatus
from portal.notifications.services import notify, organisation_members
from portal.operations.events import referents_for
from portal.operations.models import Operation
from portal.recruitment.models import Trainee

DUE_SUBJECT = _l("Suivi dans l'emploi à faire — %(title)s")
DUE_INTRO = _l(
    "Suivis dans l'emploi à faire pour l'opération « %(title)s » (situation de la personne, "
    "employeur, contrat) :"
)
LATE_SUBJECT = _l("Suivi dans l'emploi en retard — %(title)s")
LATE_INTRO = _l(
    "Suivis dans l'emploi en retard ou aux réponses à rapprocher pour l'opération « %(title)s » :"
)
ESCALATION_SUBJECT = _l("Suivi à 6 mois manquant — %(title)s")
ESCALATION_INTRO = _l(
    "Le suivi à 6 mois manque plus de %(n)d jours après son échéance pour l'opération "
    "« %(title)s » (organisme porteur : %(org)s) :"
)


def _line(milestone: Milestone) -> str:
    return _(
        "%(trainee)s — suivi %(kind)s, échéance le %(d)s",
        trainee=milestone.trainee.full_name,
        kind=milestone.kind.title.lower(),
        d=format_date(milestone.due_on, "d MMMM y"),
    )


def _candidates(condition) -> list[Milestone]:
    return list(
        db.session.scalars(
            select(Milestone)
            .join(Operation, Operation.id == Milestone.operation_id)
            .join(Trainee, Trainee.id == Milestone.trainee_id)
            .where(condition, Operation.status.in_(rules.RECORDING_STEPS))
            .options(
                selectinload(Milestone.operation).selectinload(Operation.territory),
                selectinload(Milestone.trainee),
            )
            .order_by(Milestone.operation_id, Milestone.due_on, Trainee.last_name, Milestone.id)
        )
    )


def _by_operation(milestones: list[Milestone]) -> dict[int, list[Milestone]]:
    groups: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in milestones:
        groups[milestone.operation_id].append(milestone)
    return groups


def _send(milestones, *, kind: str, subject: str, intro: str, people) -> None:
    operation = milestones[0].operation
    lines = "\n".join(f"- {_line(m)}" for m in milestones)
    notify(
        people,
        kind=kind,
        operation=operation,
        message=f"{intro}\n{lines}",
        endpoint="followup.list_followups",
        email_subject=subject,
        operation_id=operation.id,
    )


def send_due_reminders(now: datetime | None = None) -> int:
    """Send the follow-up reminders that are due; returns how many milestones were
    reminded or escalated. Flushes; the caller commits."""
    today = rules.today() if now is None else paris_day(now)
    now = now or utcnow()
    window = rules.window_days()
    open_before = today + timedelta(days=window)
    late_before = today - timedelta(days=window)
    awaiting = Milestone.status == MilestoneStatus.AWAITING
    not_retained = Milestone.status != MilestoneStatus.RETAINED
    due = _candidates(
        and_(
            awaiting,
            Milestone.reminded_at.is_(None),
            Milestone.due_on <= open_before,
            Milestone.due_on >= late_before,
        )
    )
    cooled = now - timedelta(days=rules.cooldown_days())
    overdue = _candidates(
        and_(
            not_retained,
            or_(Milestone.status == MilestoneStatus.TO_RECONCILE, Milestone.due_on < late_before),
            or_(Milestone.overdue_reminded_at.is_(None), Milestone.overdue_reminded_at <= cooled),
        )
    )
    escalated = _candidates(
        and_(
            not_retained,
            Milestone.kind == MilestoneKind.M6,
            Milestone.escalated_at.is_(None),
            Milestone.due_on <= today - timedelta(days=rules.escalation_days()),
        )
    )
    members: dict[int, list] = {}

    def carrier(operation: Operation) -> list:
        if operation.provider_id not in members:
            members[operation.provider_id] = organisation_members(operation.provider_id)
        return members[operation.provider_id]

    def referents(operation: Operation) -> list:
        return [*referents_for(operation.territory), *carrier(operation)]

    # (milestones, kind, subject, introduction, who is told, the mark of the reminder)
    sends = (
        (due, "followup_due", DUE_SUBJECT, DUE_INTRO, carrier, "reminded_at"),
        (overdue, "followup_overdue", LATE_SUBJECT, LATE_INTRO, carrier, "overdue_reminded_at"),
        (escalated, "followup_escalated", ESCALATION_SUBJECT, ESCALATION_INTRO, referents,
         "escalated_at"),
    )  # fmt: skip
    for milestones, kind, subject, intro, people, mark in sends:
        for group in _by_operation(milestones).values():
            operation = group[0].operation
            values = {
                "title": operation.title,
                "n": rules.escalation_days(),
                "org": operation.provider.name if operation.provider else "?",
            }
            _send(
                group,
                kind=kind,
                subject=str(subject) % values,
                intro=str(intro) % values,
                people=people(operation),
            )
            for milestone in group:
                setattr(milestone, mark, now)
    db.session.flush()
    return len({m.id for m in due + overdue + escalated})
