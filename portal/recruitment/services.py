"""Business verbs of recruitment: candidates recorded by the organisme, their status, their
match to a promise. A candidate's data is checked by ``candidates``; prescribers propose
candidates through ``prescription``, employers meet them at ``sessions`` and give their
``opinions``. Promises come from ``promises``, the start of the training from
``training``; both verbs the operation's lifecycle calls are reachable from here.

They check rules, change state, write the audit log (ids only: no personal data), notify;
they flush and never commit.
"""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Organisation, User
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations import dual_approvals
from portal.operations.events import log_event
from portal.operations.models import Operation
from portal.operations.services import enlist_prescriber
from portal.recruitment import candidates, rules
from portal.recruitment.candidates import (  # noqa: F401 - the names views and imports use
    MAX_ROWS,
    TRAINEE_FIELDS,
    RowErrors,
    check_rows,
)
from portal.recruitment.models import (
    ExitReason,
    JobPromise,
    Trainee,
    TraineeStatus,
    TraineeStatusChange,
)

# The operation's lifecycle calls these two by ``portal.recruitment.services``.
from portal.recruitment.promises import create_promises  # noqa: F401
from portal.recruitment.training import (  # noqa: F401
    decide_early_start,
    paris_today,
    training_start_problems,
)


def check_can_record(operation: Operation, org: Organisation | None) -> None:
    """Refuse (RuleError) unless ``org`` carries ``operation`` at a step that records."""
    _check_carrier(operation, org)
    _check_recording(operation)


def _check_carrier(operation: Operation, org: Organisation | None) -> None:
    if org is None or operation.provider_id != org.id:
        raise RuleError(_("Seul l'organisme porteur enregistre et modifie les stagiaires."))


def _check_recording(operation: Operation) -> None:
    if operation.status not in rules.RECORDING_STEPS:
        raise RuleError(
            _(
                "Les candidat·e·s s'enregistrent pendant le recrutement et la formation ; "
                "l'opération est à l'étape « %(step)s ».",
                step=operation.status.title,
            )
        )


def _enlist_prescribers(operation: Operation, ids: list, *, by: User, org: Organisation) -> None:
    """Prescribers read their trainees' records: each becomes a participant if not one.
    Those joining are locked with the operation before the first audit record (a member of
    two parties needs the Région's approval: ``dual_memberships``)."""
    taking_part = {p.organisation_id for p in operation.active_participants()}
    joining = sorted({i for i in ids if i is not None} - taking_part)
    if not joining:
        return
    organisations = [db.session.get(Organisation, organisation_id) for organisation_id in joining]
    dual_approvals.lock_parties(operation, organisations)
    for organisation in organisations:
        enlist_prescriber(operation, organisation, by=by, org=org)


def add_trainees(
    operation: Operation, rows: list[dict], *, by: User, org: Organisation, source: str = "form"
) -> list[Trainee]:
    """Record candidates, all or none: any bad row raises ``RowErrors`` and saves nothing.

    ``rows``: dicts of ``TRAINEE_FIELDS`` (``prescriber_id`` an id, ``public_category`` a
    key of ``TARGET_PUBLICS`` or ""). ``source``: "form" or "csv", for the timeline.
    The operation's lock makes a repeated submit wait, then find its rows recorded.
    """
    lock(operation)
    check_can_record(operation, org)
    if not rows:
        raise RuleError(_("Saisissez au moins un·e candidat·e."))
    if len(rows) > MAX_ROWS:
        raise RuleError(_("%(n)d candidat·e·s au plus à la fois.", n=MAX_ROWS))
    errors = check_rows(operation, rows)
    if errors:
        raise RowErrors(errors)
    _enlist_prescribers(
        operation, [candidates.clean(row)["prescriber_id"] for row in rows], by=by, org=org
    )
    trainees = []
    for row in rows:
        trainee = Trainee(operation_id=operation.id, created_by_id=by.id, **candidates.clean(row))
        trainee.status = TraineeStatus.CANDIDATE
        db.session.add(trainee)
        trainees.append(trainee)
    db.session.flush()
    for trainee in trainees:
        db.session.add(
            TraineeStatusChange(
                trainee_id=trainee.id, to_status=TraineeStatus.CANDIDATE, by_id=by.id
            )
        )
        record("trainee.created", actor=by, organisation=org, obj=trainee, operation=operation.id)
    log_event(operation, "trainees_added", by=by, org=org, count=len(trainees), via=source)
    return trainees


def update_trainee(trainee: Trainee, data: dict, *, by: User, org: Organisation) -> list[str]:
    """Correct a trainee's identity, contact, prescriber or public; returns changed fields."""
    operation = trainee.operation
    _check_carrier(operation, org)
    if not operation.is_open:
        raise RuleError(_("Cette opération est close : ses stagiaires ne changent plus."))
    if trainee.anonymised_at is not None:
        # Erased (portal/privacy/anonymise.py): an identity typed again would undo it.
        raise RuleError(
            _("Les données de ce·tte stagiaire sont anonymisées : elles ne changent plus.")
        )
    clean = candidates.clean(data)
    problems = candidates.row_problems(clean, candidates.partner_ids())
    emails, people = candidates.known(operation, exclude=trainee)
    if clean["email"] and clean["email"] in emails:
        problems.append(("email", _("Une candidature avec cette adresse existe déjà.")))
    if candidates.identity(clean) in people:
        problems.append(("last_name", _("Cette personne est déjà enregistrée dans l'opération.")))
    if problems:
        name, message = problems[0]
        raise RuleError(message, name)
    _enlist_prescribers(operation, [clean["prescriber_id"]], by=by, org=org)
    changed = sorted(name for name in TRAINEE_FIELDS if getattr(trainee, name) != clean[name])
    for name in changed:
        setattr(trainee, name, clean[name])
    if changed:
        db.session.flush()
        # Names of the fields only: their values are personal data.
        record("trainee.updated", actor=by, organisation=org, obj=trainee, fields=changed)
    return changed


# --- Status ----------------------------------------------------------------------------


def change_status(
    trainee: Trainee,
    target: TraineeStatus,
    *,
    by: User,
    org: Organisation,
    exit_date: date | None = None,
    exit_reason: ExitReason | None = None,
    comment: str = "",
) -> list[str]:
    """Move a trainee to ``target`` along ``rules.TRANSITIONS``; an exit needs its date and
    reason. Returns French notes (a promise freed by the change)."""
    lock(trainee)
    operation = trainee.operation
    _check_carrier(operation, org)
    refused = rules.refusal(
        trainee.status,
        target,
        exit_reason=trainee.exit_reason,
        operation_status=operation.status,
    )
    if refused:
        raise RuleError(refused, "status")
    if target == TraineeStatus.EXITED:
        if exit_date is None:
            raise RuleError(_("Indiquez la date de sortie."), "exit_date")
        if exit_reason is None:
            raise RuleError(_("Indiquez le motif de sortie."), "exit_reason")
        if exit_date > paris_today():
            raise RuleError(_("La date de sortie ne peut pas être dans le futur."), "exit_date")
        trainee.exit_date, trainee.exit_reason = exit_date, exit_reason
    previous = trainee.status
    trainee.status = target
    trainee.status_changed_at = utcnow()
    notes = []
    if trainee.promise is not None and not rules.holds_place(target, trainee.exit_reason):
        promise = trainee.promise
        notes.append(
            _(
                "La promesse « %(job)s » %(of_employer)s est de nouveau à pourvoir.",
                job=promise.job_title,
                of_employer=de(promise.organisation.name),
            )
        )
        record("trainee.unmatched", actor=by, organisation=org, obj=trainee, promise=promise.id)
        trainee.promise = None
    db.session.add(
        TraineeStatusChange(
            trainee_id=trainee.id,
            from_status=previous,
            to_status=target,
            by_id=by.id,
            reason=comment.strip(),
        )
    )
    db.session.flush()
    record(
        "trainee.status_changed",
        actor=by,
        organisation=org,
        obj=trainee,
        source=previous.value,
        target=target.value,
        exit_reason=exit_reason.value if exit_reason else None,
    )
    return notes


# --- Matching --------------------------------------------------------------------------


def match_trainee(trainee: Trainee, promise: JobPromise, *, by: User, org: Organisation) -> None:
    """Place a retained trainee on a promise: one promise, one trainee (the database refuses
    a second one, even when two people match at the same moment)."""
    lock(trainee)
    operation = trainee.operation
    _check_carrier(operation, org)
    _check_recording(operation)
    if promise.operation_id != trainee.operation_id:
        raise RuleError(_("Cette promesse relève d'une autre opération."), "promise_id")
    if trainee.status not in rules.MATCHABLE:
        raise RuleError(
            _(
                "Seul·e un·e stagiaire retenu·e ou en formation est positionné·e sur une "
                "promesse d'embauche (statut actuel : « %(s)s »).",
                s=trainee.status.title,
            ),
            "promise_id",
        )
    if trainee.promise_id == promise.id:
        raise RuleError(_("Ce ou cette stagiaire est déjà sur cette promesse."), "promise_id")
    if promise.trainee is not None:
        raise RuleError(
            _("Cette promesse est déjà pourvue par un·e autre stagiaire."), "promise_id"
        )
    previous = trainee.promise_id
    trainee.promise = promise
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise RuleError(
            _(
                "Cette promesse vient d'être attribuée à un·e autre stagiaire : "
                "choisissez-en une autre."
            ),
            "promise_id",
        ) from exc
    record(
        "trainee.matched",
        actor=by,
        organisation=org,
        obj=trainee,
        promise=promise.id,
        previous_promise=previous,
    )
    notify(
        organisation_members(promise.organisation_id, admins_only=True),
        kind="trainee_matched",
        operation=operation,
        message=_(
            "Un·e stagiaire de l'opération « %(title)s » est positionné·e sur votre promesse "
            "d'embauche « %(job)s ».",
            title=operation.title,
            job=promise.job_title,
        ),
        endpoint="recruitment.show_trainee",
        operation_id=operation.id,
        trainee_id=trainee.id,
    )


def unmatch_trainee(trainee: Trainee, *, by: User, org: Organisation) -> JobPromise:
    """Take a trainee off their promise, which is open again."""
    lock(trainee)
    _check_carrier(trainee.operation, org)
    _check_recording(trainee.operation)
    promise = trainee.promise
    if promise is None:
        raise RuleError(_("Ce ou cette stagiaire n'est positionné·e sur aucune promesse."))
    trainee.promise = None
    db.session.flush()
    record("trainee.unmatched", actor=by, organisation=org, obj=trainee, promise=promise.id)
    return promise
