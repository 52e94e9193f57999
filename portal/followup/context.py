"""Context builders shared by the follow-up views: a milestone's page (answers side by
side, history, attempts, the forms of whoever may act) and the state filter."""

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.access import acting_for_region, current_org
from portal.extensions import db
from portal.followup import rules
from portal.followup.access import answering_party
from portal.followup.forms import (
    WRITTEN,
    AnswerFields,
    AnswerForm,
    AttemptForm,
    ReconcileForm,
    StateFilterForm,
)
from portal.followup.models import Answer, Attempt, Milestone, MilestoneStatus
from portal.followup.services import attempts_by
from portal.operations.access import is_carrier
from portal.operations.models import Operation
from portal.operations.needs import employer_participants


def state_filter() -> tuple[StateFilterForm, rules.Progress | None]:
    """The ``etat`` filter of a follow-up list, from the query string."""
    form = StateFilterForm(request.args)
    return form, form.state()


def employers_for(milestone: Milestone) -> list:
    """The employers an answer may pick: the operation's, and the promise's if it left."""
    employers = list(employer_participants(milestone.operation))
    promise = milestone.trainee.promise
    if promise is not None and promise.organisation_id not in {e.id for e in employers}:
        employers.append(promise.organisation)
    return sorted(employers, key=lambda e: e.name)


def answer_form(milestone: Milestone, formdata=None) -> AnswerForm:
    form = AnswerForm(formdata=formdata, prefix="reponse")
    form.set_employers(employers_for(milestone))
    return form


def written_form(milestone: Milestone, formdata=None) -> AnswerFields:
    form = AnswerFields(formdata=formdata, prefix="retenue")
    form.set_employers(employers_for(milestone))
    return form


def answer_label(answer: Answer) -> str:
    """« Organisation : situation — employeur » for the reconciliation's choices."""
    text = f"{answer.organisation.name} : {answer.situation.title}"
    if answer.duration_months:
        text += " " + _("de %(n)d mois", n=answer.duration_months)
    if answer.employer_label:
        text += f" — {answer.employer_label}"
    return text


def reconcile_form(milestone: Milestone, counted: list[Answer], formdata=None) -> ReconcileForm:
    form = ReconcileForm(formdata=formdata, prefix="rapprochement")
    form.set_answers((a.id, answer_label(a)) for a in counted)
    if formdata is None:
        form.version.data = str(milestone.version)
    return form


def _answers(milestone: Milestone) -> list[Answer]:
    return list(
        db.session.scalars(
            select(Answer)
            .where(Answer.milestone_id == milestone.id)
            .options(
                selectinload(Answer.organisation),
                selectinload(Answer.user),
                selectinload(Answer.employer),
            )
            .order_by(Answer.id)
        )
    )


def _attempts(milestone: Milestone) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.milestone_id == milestone.id)
            .options(selectinload(Attempt.organisation), selectinload(Attempt.user))
            .order_by(Attempt.attempted_on, Attempt.id)
        )
    )


def milestone_context(operation: Operation, milestone: Milestone, **overrides) -> dict:
    """Everything ``followup/_milestone.html`` shows, and the forms of the current user."""
    org = current_org()
    answers = _answers(milestone)
    counted = rules.considered(answers)
    party = answering_party(milestone.trainee, current_user, org)
    carrier = is_carrier(operation)
    recording = operation.status in rules.RECORDING_STEPS
    window = rules.window_days()
    to_reconcile = milestone.status == MilestoneStatus.TO_RECONCILE
    context = {
        "operation": operation,
        "milestone": milestone,
        "trainee": milestone.trainee,
        "answers": answers,
        "counted": counted,
        "side_by_side": len(counted) > 1,
        "retained": milestone.retained,
        "attempts": _attempts(milestone),
        "to_reconcile": to_reconcile,
        "progress": rules.progress(
            milestone.status, milestone.due_on, today=rules.today(), window=window
        ),
        "opens_on": rules.opens_on(milestone.due_on, window),
        "late_from": rules.late_from(milestone.due_on, window),
        "party": party,
        "carrier": carrier,
        "region": acting_for_region(),
        "attempts_needed": rules.attempts_before_no_news(),
        "attempts_done": attempts_by(milestone, org) if party else 0,
        "answer_form": None,
        "attempt_form": None,
        "reconcile_form": None,
        "written_form": None,
        "WRITTEN": WRITTEN,
        "notice": None,
        "error": None,
    }
    if party and recording:
        context["answer_form"] = answer_form(milestone)
        context["attempt_form"] = AttemptForm(formdata=None, prefix="tentative")
    if carrier and recording and to_reconcile:
        context["reconcile_form"] = reconcile_form(milestone, counted)
        context["written_form"] = written_form(milestone)
    context.update(overrides)
    return context
