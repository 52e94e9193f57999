"""Routes of the evaluation of the operation: the page (figures, written parts co-edited
like the design, the state, the prime DEFI), its actions — open, submit, accept or send
back; request, withdraw, grant or refuse the prime — and the DOCX.

Each action answers the state widget (htmx: ``#assessment-status``) or redirects to the
page; a refused one re-renders the widget with the errors, with 422. The participants of
the operation read; the organisme porteur and the Région act; others get 404.
"""

from io import BytesIO

from flask import send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, require
from portal.assessment import bp, documents, services
from portal.assessment.context import PAGE, page_context, status_context
from portal.assessment.forms import (
    ACCEPT,
    BONUS_PREFIX,
    DECIDE_PREFIX,
    GRANT,
    DecideAssessmentForm,
    DecideBonusForm,
    RequestBonusForm,
)
from portal.core.actions import act, done, field_error
from portal.core.errors import RuleError
from portal.design.comment_context import comment_helpers
from portal.design.context import operation_for_page
from portal.design.documents import DOCX_MIMETYPE
from portal.operations.access import can_steer, is_carrier, is_region, load_operation
from portal.operations.models import Operation, Status

STATUS = "assessment/_status.html"

# The written parts render the design's comment blocks, which need these helpers.
bp.context_processor(comment_helpers)


def _load(operation_id: int) -> Operation:
    return load_operation(operation_id, loader=operation_for_page)


def _render(operation: Operation, status: int = 200, /, **forms):
    """htmx: the state widget; a plain request: the page."""
    if htmx.is_htmx():
        return htmx.render(PAGE, STATUS, status, **status_context(operation, forms))
    return htmx.render(PAGE, STATUS, status, **page_context(operation, forms=forms))


def _refused(operation_id: int, message: str, **forms):
    """Nothing of the action is kept (``act`` rolled back); the widget shows why, with the
    form as typed (422)."""
    return _render(_load(operation_id), 422, error=message, **forms)


def _refusal(operation_id: int, form=None, **forms):
    """The failure answer of ``act``: the refusal under the form's field it names, or above
    the widget."""

    def answer(refusal: RuleError):
        message = field_error(form, refusal) if form is not None else refusal.message
        return _refused(operation_id, message, **forms)

    return answer


def _act(operation_id: int, call, notice, form=None, **forms):
    """Run the service call through ``act``; success answers the widget or the page."""
    url = url_for("assessment.show_assessment", operation_id=operation_id)

    def success(result):
        message = notice(result) if callable(notice) else notice
        return done(message, url, lambda: _render(_load(operation_id), notice=message))

    return act(call, success=success, failure=_refusal(operation_id, form, **forms))


@bp.get("")
@login_required
def show_assessment(operation_id: int):
    """The evaluation page (htmx: the state widget)."""
    return _render(_load(operation_id))


@bp.post("/ouverture")
@login_required
def start_assessment(operation_id: int):
    """The organisme porteur or the Région opens the evaluation."""
    operation = _load(operation_id)
    require(can_steer(operation))
    return _act(
        operation_id,
        lambda: services.start_assessment(operation, by=current_user, org=current_org()),
        _("Évaluation ouverte : rédigez ses parties."),
    )


@bp.post("/soumission")
@login_required
def submit_assessment(operation_id: int):
    """The organisme porteur submits the evaluation to the Région."""
    operation = _load(operation_id)
    require(is_carrier(operation))
    assessment = services.assessment_for(operation)
    if assessment is None:
        return _refused(operation_id, _("L'évaluation n'est pas ouverte."))
    return _act(
        operation_id,
        lambda: services.submit_assessment(assessment, by=current_user, org=current_org()),
        _("Évaluation soumise à la Région."),
    )


def _region_decision(operation_id: int, form, form_name: str, *, invalid, missing, call, notice):
    """A decision of the Région (on the evaluation, on the prime), after the route loaded
    and authorised: the form (``invalid`` if it does not validate), what it decides on
    (``missing``: why there is nothing to decide, or None), then ``call`` through ``_act``;
    every refusal shows the widget again with the form as typed."""
    forms = {form_name: form}
    if not form.validate_on_submit():
        return _refused(operation_id, invalid, **forms)
    if missing:
        return _refused(operation_id, missing)
    return _act(operation_id, call, notice, form, **forms)


@bp.post("/decision")
@login_required
def decide_assessment(operation_id: int):
    """The Région accepts the evaluation or sends it back with a comment."""
    operation = _load(operation_id)
    require(is_region())
    form = DecideAssessmentForm(prefix=DECIDE_PREFIX)
    assessment = services.assessment_for(operation)
    accept = form.decision.data == ACCEPT
    return _region_decision(
        operation_id,
        form,
        "decide_form",
        invalid=_("Vérifiez la décision."),
        missing=None if assessment else _("L'évaluation n'est pas ouverte."),
        call=lambda: services.decide_assessment(
            assessment,
            accept=accept,
            comment=form.comment.data or "",
            by=current_user,
            org=current_org(),
        ),
        notice=_("Évaluation acceptée.") if accept else _("Évaluation renvoyée pour reprise."),
    )


@bp.post("/prime")
@login_required
def request_bonus(operation_id: int):
    """The organisme porteur requests the prime DEFI with its justification."""
    operation = _load(operation_id)
    require(is_carrier(operation))
    form = RequestBonusForm()
    if not form.validate_on_submit():
        return _refused(operation_id, _("Vérifiez la demande de prime."), request_form=form)
    return _act(
        operation_id,
        lambda: services.request_bonus(
            operation, form.justification.data, by=current_user, org=current_org()
        ),
        _("Prime DEFI demandée à la Région."),
        form,
        request_form=form,
    )


@bp.post("/prime/retrait")
@login_required
def withdraw_bonus(operation_id: int):
    """The organisme porteur withdraws its request before the decision."""
    operation = _load(operation_id)
    require(is_carrier(operation))
    bonus = services.bonus_for(operation)
    if bonus is None:
        return _refused(operation_id, _("Aucune prime DEFI n'est demandée."))
    return _act(
        operation_id,
        lambda: services.withdraw_bonus(bonus, by=current_user, org=current_org()),
        _("Demande de prime DEFI retirée."),
    )


@bp.post("/prime/decision")
@login_required
def decide_bonus(operation_id: int):
    """The Région grants the prime with an amount or refuses it with a reason."""
    operation = _load(operation_id)
    require(is_region())
    form = DecideBonusForm(prefix=BONUS_PREFIX)
    bonus = services.bonus_for(operation)
    grant = form.decision.data == GRANT
    return _region_decision(
        operation_id,
        form,
        "bonus_form",
        invalid=_("Vérifiez la décision sur la prime."),
        missing=None if bonus else _("Aucune prime DEFI n'est demandée."),
        call=lambda: services.decide_bonus(
            bonus,
            grant=grant,
            amount_euros=form.amount_euros.data,
            reason=form.reason.data or "",
            by=current_user,
            org=current_org(),
        ),
        notice=_("Prime DEFI accordée.") if grant else _("Prime DEFI refusée."),
    )


@bp.get("/document.docx")
@login_required
def download_assessment(operation_id: int):
    """The evaluation as a Word document, for the operation's participants (a GET that
    writes nothing: unlike a convention, the document is no evidence of a signature)."""
    operation = _load(operation_id)
    data = documents.assessment_docx(operation)
    return send_file(
        BytesIO(data),
        mimetype=DOCX_MIMETYPE,
        as_attachment=True,
        download_name=documents.filename(operation),
    )


@bp.app_template_global()
def assessment_card(operation: Operation) -> dict | None:
    """What the operation page says of the evaluation and the prime (from the follow-up on)."""
    if operation.status not in (Status.FOLLOW_UP, Status.CLOSED):
        return None
    return {
        "assessment": services.assessment_for(operation),
        "bonus": services.bonus_for(operation),
    }
