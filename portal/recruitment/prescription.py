"""Prescribers propose candidates (the sheet: partners contribute « à la prescription et au
recrutement »): France Travail, a Mission locale, Cap emploi… taking part in the operation
as orientation or employment partner.

A proposal carries the minimum the recruitment needs (name, a way to reach the person,
optionally the birth year and the public) and the consent statement the prescriber ticked,
kept word for word with who ticked it and when. The candidate is then the organisme
porteur's to examine (it is told at once); the prescriber follows the status of the
candidates it oriented, and only theirs (``recruitment/access.py``).
"""

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Organisation, OrgKind, User
from portal.audit.services import record
from portal.core import french
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event
from portal.operations.models import Operation, Participant, ParticipantRole
from portal.recruitment import candidates, rules
from portal.recruitment.models import Proposal, Trainee, TraineeStatus, TraineeStatusChange

# The partners who orient people toward the training (an OPCO or a chamber does not).
PRESCRIBING_ROLES = (ParticipantRole.PARTNER_ORIENTATION, ParticipantRole.PARTNER_EMPLOYMENT)
PROPOSAL_FIELDS = ("last_name", "first_name", "email", "phone", "birth_year", "public_category")


def is_prescriber(operation: Operation, org: Organisation | None) -> bool:
    """``org`` takes part in ``operation`` as a partner that orients candidates."""
    if org is None or org.kind != OrgKind.PARTNER:
        return False
    return any(
        p.organisation_id == org.id and p.role in PRESCRIBING_ROLES
        for p in operation.active_participants()
    )


def can_propose(operation: Operation, org: Organisation | None) -> bool:
    """A prescriber of the operation, while candidates are recorded."""
    return is_prescriber(operation, org) and operation.status in rules.RECORDING_STEPS


def consent_text(operation: Operation, prescriber: Organisation) -> str:
    """The statement the prescriber ticks, stored with the proposal; always in French."""
    with force_locale("fr"):
        provider = operation.provider.name if operation.provider else _("l'organisme porteur")
        return _(
            "Je certifie avoir informé la personne que je propose que ses nom, prénom et "
            "coordonnées sont transmis %(to_provider)s, organisme de formation de l'opération "
            "DEFI « %(title)s », et aux employeurs qu'elle rencontrera lors des sessions de "
            "recrutement, pour ce seul recrutement ; qu'elle y consent ; et qu'elle peut "
            "retirer ce consentement à tout moment auprès %(of_prescriber)s.",
            to_provider=french.a(provider),
            title=operation.title,
            of_prescriber=french.de(prescriber.name),
        )


def _check_can_propose(operation: Operation, org: Organisation | None) -> None:
    if not is_prescriber(operation, org):
        raise RuleError(
            _(
                "Seuls les partenaires prescripteurs de l'opération (orientation, emploi) "
                "proposent des candidat·e·s."
            )
        )
    if operation.status not in rules.RECORDING_STEPS:
        raise RuleError(
            _(
                "Les candidatures se proposent pendant le recrutement et la formation ; "
                "l'opération est à l'étape « %(step)s ».",
                step=operation.status.title,
            )
        )


def propose_candidate(
    operation: Operation, data: dict, consent: str, *, by: User, org: Organisation
) -> Trainee:
    """A prescriber proposes a candidate with the consent statement it read (``consent``
    must be ``consent_text`` word for word); the organisme porteur is told.

    The operation's lock makes a repeated submit wait, then find the candidate recorded
    (and refuse it as a duplicate, in French)."""
    lock(operation)
    _check_can_propose(operation, org)
    expected = consent_text(operation, org)
    if consent != expected:
        raise RuleError(
            _("Cochez la déclaration de consentement pour proposer cette personne."), "consent"
        )
    row = {name: data.get(name) for name in PROPOSAL_FIELDS} | {"prescriber_id": org.id}
    clean = candidates.clean(row)
    if not clean["email"] and not clean["phone"]:
        raise RuleError(
            _("Indiquez une adresse électronique ou un téléphone pour joindre la personne."),
            "email",
        )
    errors = candidates.check_rows(operation, [row])
    if errors:
        name, message = errors[0][0]
        raise RuleError(message, name)
    trainee = Trainee(operation_id=operation.id, created_by_id=by.id, **clean)
    trainee.status = TraineeStatus.CANDIDATE
    db.session.add(trainee)
    db.session.flush()
    db.session.add(
        TraineeStatusChange(
            trainee_id=trainee.id,
            to_status=TraineeStatus.CANDIDATE,
            by_id=by.id,
            reason=_("Proposé·e par %(org)s.", org=org.name),
        )
    )
    db.session.add(
        Proposal(
            trainee_id=trainee.id,
            organisation_id=org.id,
            proposed_by_id=by.id,
            consent_text=expected,
        )
    )
    db.session.flush()
    record("trainee.proposed", actor=by, organisation=org, obj=trainee, operation=operation.id)
    # The timeline is read by every participant: the prescriber, never the person.
    log_event(operation, "candidate_proposed", by=by, org=org, prescriber=org.name)
    if operation.provider_id:
        notify(
            organisation_members(operation.provider_id),
            kind="candidate_proposed",
            operation=operation,
            message=_(
                "%(org)s propose un·e candidat·e pour « %(title)s » : sa candidature est à "
                "examiner.",
                org=org.name,
                title=operation.title,
            ),
            endpoint="recruitment.show_trainee",
            email_subject=_("Nouvelle candidature proposée : %(title)s", title=operation.title),
            operation_id=operation.id,
            trainee_id=trainee.id,
        )
    return trainee


def proposals_query(operation: Operation, org: Organisation | None, *, everyone: bool):
    """The candidates a page of proposals lists: every proposal of the operation
    (``everyone``: the organisme porteur, the Région), else those ``org`` oriented."""
    query = (
        select(Trainee)
        .where(Trainee.operation_id == operation.id)
        .options(
            selectinload(Trainee.prescriber),
            selectinload(Trainee.proposal).selectinload(Proposal.proposed_by),
        )
    )
    if everyone:
        query = query.join(Proposal, Proposal.trainee_id == Trainee.id)
    else:
        query = query.where(Trainee.prescriber_id == getattr(org, "id", None))
    return query.order_by(Trainee.created_at.desc(), Trainee.id.desc())


def prescribing_partners(operation: Operation) -> list[Participant]:
    """The operation's prescribers (for the page's explanation)."""
    return [p for p in operation.active_participants() if p.role in PRESCRIBING_ROLES]
