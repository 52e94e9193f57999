"""Exports that concern trainees: the trainees and their follow-ups, pseudonymised where
the user may not open the record.

A row names its trainee only when the user may see that trainee's record (the rule of
``recruitment.access``, in SQL across operations: the Région for the operations it sees,
the organisme porteur, the prescriber, the host employer's admins, a designated tutor).
The contact, the birth year and the public category (« bénéficiaire du RSA »…) appear
only where ``can_see_personal`` would allow them (the Région, the organisme porteur, the
prescriber). Anyone else reads a pseudonym — ``S-`` and eight characters of an HMAC of
the trainee's id under the application's secret: the same trainee has the same pseudonym
in both exports and from one export to the next, and it cannot be traced back without
the secret. Every such export writes one line of the access log (``TraineeAccess``) with
the trainees it lists.
"""

import hashlib
import hmac
from collections.abc import Iterator

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, false, or_, select, true
from sqlalchemy.orm import aliased

from portal.accounts.access import acting_for_region
from portal.accounts.models import Membership, Organisation
from portal.core.employment import employment_sql, lasting_sql
from portal.extensions import db
from portal.followup.access import follows_sql
from portal.followup.indicators import jury_sql
from portal.followup.models import Answer, Milestone, RetainedAnswer
from portal.followup.rules import progress
from portal.immersions.models import Outcome
from portal.operations.access import visible_operations
from portal.operations.models import Operation
from portal.operations.needs import TARGET_PUBLICS
from portal.recruitment.access import participant_visibility
from portal.recruitment.models import JobPromise, Trainee
from portal.reporting.exports import Column
from portal.reporting.rows import BATCH, stream


def pseudonym(trainee_id: int) -> str:
    """A stable pseudonym for a trainee, not reversible without the application's secret."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"trainee:{trainee_id}".encode(), hashlib.sha256).hexdigest()
    return f"S-{digest[:8].upper()}"


def identified_sql(membership: Membership | None, share=None):
    """SQL condition on ``Trainee`` (joined to its ``Operation``): the user may open the
    record (``share``: the follow-up's share of a participant, see ``followup.access``)."""
    if membership is None:
        return false()
    if acting_for_region():
        # A referent looking at the whole Région sees the others' trainees pseudonymised.
        return Trainee.operation_id.in_(visible_operations(select(Operation.id)))
    return or_(
        Operation.provider_id == membership.organisation_id,
        participant_visibility(membership, share),
    )


def personal_sql(membership: Membership | None):
    """SQL condition: the user may also read the contact and the public category."""
    if membership is None:
        return false()
    if acting_for_region():
        return true()
    org_id = membership.organisation_id
    return or_(Operation.provider_id == org_id, Trainee.prescriber_id == org_id)


def trainee_ids(scope: Select) -> list[int]:
    """The ids of the trainees an export of ``scope`` lists (for the access log)."""
    return list(
        db.session.scalars(
            select(Trainee.id).where(Trainee.operation_id.in_(scope)).order_by(Trainee.id)
        )
    )


def trainee_columns() -> list[Column]:
    return [
        Column(_("N° d'opération"), 9),
        Column(_("Opération"), 40),
        Column(_("Stagiaire"), 24),
        Column(_("Nom"), 18),
        Column(_("Prénom"), 16),
        Column(_("Courriel"), 26),
        Column(_("Téléphone"), 14),
        Column(_("Année de naissance"), 10),
        Column(_("Public"), 20),
        Column(_("Prescripteur"), 26),
        Column(_("Statut"), 14),
        Column(_("Employeur de la promesse"), 26),
        Column(_("Date de sortie"), 12),
        Column(_("Motif de sortie"), 20),
        Column(_("Certification"), 14),
    ]


def trainee_rows(scope: Select, membership: Membership | None) -> Iterator[tuple]:
    """One row per trainee of the operations in scope, named or pseudonymised."""
    prescriber = aliased(Organisation)
    promise = aliased(JobPromise)  # the visibility's subqueries name JobPromise
    employer = aliased(Organisation)
    full, partial = jury_sql(Outcome.FULL), jury_sql(Outcome.PARTIAL)
    identified = identified_sql(membership)
    personal = and_(identified, personal_sql(membership))
    query = (
        select(
            Operation.id,
            Operation.title,
            Trainee.id,
            identified.label("identified"),
            personal.label("personal"),
            Trainee.last_name,
            Trainee.first_name,
            Trainee.email,
            Trainee.phone,
            Trainee.birth_year,
            Trainee.public_category,
            prescriber.name,
            Trainee.status,
            employer.name,
            Trainee.exit_date,
            Trainee.exit_reason,
            full.label("full"),
            partial.label("partial"),
        )
        .join(Operation, Operation.id == Trainee.operation_id)
        .outerjoin(prescriber, prescriber.id == Trainee.prescriber_id)
        .outerjoin(promise, promise.id == Trainee.promise_id)
        .outerjoin(employer, employer.id == promise.organisation_id)
        .where(Trainee.operation_id.in_(scope))
        .order_by(Operation.id, Trainee.id)
        .execution_options(yield_per=BATCH)
    )
    return map(_trainee_row, stream(query))


def _trainee_row(row) -> tuple:
    (op_id, title, tid, named, private, last, first, email, phone, year, public) = row[:11]
    prescribed_by, status, promiser, exit_date, reason, got_full, got_partial = row[11:]
    certification = _("complète") if got_full else (_("partielle") if got_partial else None)
    return (
        op_id,
        title,
        pseudonym(tid),
        last if named else None,
        first if named else None,
        (email or None) if private else None,
        (phone or None) if private else None,
        year if private else None,
        _publics().get(public) if private and public else None,
        prescribed_by,
        status.title,
        promiser,
        exit_date,
        reason.title if reason else None,
        certification,
    )


def _publics() -> dict[str, str]:
    """The target publics' French names, keyed as ``Trainee.public_category``."""
    return {key: str(label) for key, label in dict(TARGET_PUBLICS).items()}


def followup_columns() -> list[Column]:
    return [
        Column(_("N° d'opération"), 9),
        Column(_("Opération"), 40),
        Column(_("Stagiaire"), 12),
        Column(_("Nom"), 18),
        Column(_("Prénom"), 16),
        Column(_("Suivi"), 12),
        Column(_("Échéance"), 12),
        Column(_("État"), 14),
        Column(_("Situation retenue"), 22),
        Column(_("Durée du contrat (mois)"), 10),
        Column(_("En emploi"), 9),
        Column(_("Emploi durable"), 9),
        Column(_("Employeur"), 28),
    ]


def followup_rows(scope: Select, membership: Membership | None, *, today, window):
    """One row per follow-up (exit, +3, +6 months) of the trainees of the scope."""
    # Aliases: the visibility's own subqueries on milestones and answers must not
    # correlate with the rows listed here.
    employer = aliased(Organisation)
    milestone, retained, answer = aliased(Milestone), aliased(RetainedAnswer), aliased(Answer)
    identified = identified_sql(membership, follows_sql)
    query = (
        select(
            Operation.id,
            Operation.title,
            Trainee.id,
            identified.label("identified"),
            Trainee.last_name,
            Trainee.first_name,
            milestone.kind,
            milestone.due_on,
            milestone.status,
            answer.situation,
            answer.duration_months,
            employment_sql(answer.situation).label("employed"),
            lasting_sql(answer.situation, answer.duration_months).label("lasting"),
            employer.name,
            answer.employer_name,
            (answer.id.is_not(None)).label("answered"),
        )
        .select_from(milestone)
        .join(Trainee, Trainee.id == milestone.trainee_id)
        .join(Operation, Operation.id == milestone.operation_id)
        .outerjoin(retained, retained.milestone_id == milestone.id)
        .outerjoin(answer, answer.id == retained.answer_id)
        .outerjoin(employer, employer.id == answer.employer_id)
        .where(milestone.operation_id.in_(scope))
        .order_by(Operation.id, Trainee.id, milestone.due_on)
        .execution_options(yield_per=BATCH)
    )
    return map(lambda row: _followup_row(row, today=today, window=window), stream(query))


def _followup_row(row, *, today, window) -> tuple:
    (op_id, title, tid, named, last, first, kind, due, status) = row[:9]
    situation, months, employed, lasting, company, named_company, answered = row[9:]
    return (
        op_id,
        title,
        pseudonym(tid),
        last if named else None,
        first if named else None,
        kind.title,
        due,
        progress(status, due, today=today, window=window).title,
        situation.title if situation else None,
        months,
        bool(employed) if answered else None,
        bool(lasting) if answered else None,
        company or named_company or None,
    )
