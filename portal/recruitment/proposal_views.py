"""Candidates proposed by prescribers: the prescriber's page (the form with the consent
statement, and the status of the candidates it oriented), which the organisme porteur and
the Région read too (every proposal, with who proposed and the consent kept).

The form and the list are one htmx widget (``_proposals.html``): a proposal swaps it with
the new candidate listed; without JS the form posts and is redirected (303).
"""

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, require
from portal.core.actions import act, done, field_error
from portal.core.french import de
from portal.core.pagination import paginate
from portal.extensions import db
from portal.operations.access import is_region, load_operation
from portal.operations.needs import TARGET_PUBLICS
from portal.recruitment import bp, prescription
from portal.recruitment.access import is_provider_of, log_trainees_shown
from portal.recruitment.forms import ProposalForm

PAGE = "recruitment/proposals.html"
WIDGET = "recruitment/_proposals.html"


def _allowed(operation):
    """(sees every proposal?, is a prescriber?) — 403 for the others (employers)."""
    everyone = is_provider_of(operation) or is_region()
    prescriber = prescription.is_prescriber(operation, current_org())
    require(everyone or prescriber)
    return everyone, prescriber


def _form(operation, formdata=None) -> ProposalForm:
    form = ProposalForm(formdata=formdata)
    if formdata is None:
        form.consent_text.data = prescription.consent_text(operation, current_org())
    return form


def _answer(operation, form, *, status=200, notice=None, error=None):
    everyone, prescriber = _allowed(operation)
    pagination = paginate(prescription.proposals_query(operation, current_org(), everyone=everyone))
    log_trainees_shown(pagination.items, "proposals")
    response = htmx.render(
        PAGE,
        WIDGET,
        status,
        operation=operation,
        form=form,
        can_propose=prescriber and prescription.can_propose(operation, current_org()),
        consent=prescription.consent_text(operation, current_org()) if prescriber else "",
        everyone=everyone,
        pagination=pagination,
        trainees=pagination.items,
        publics=TARGET_PUBLICS,
        prescribers=prescription.prescribing_partners(operation),
        notice=notice,
        error=error,
    )
    db.session.commit()  # the access log line, after rendering
    return response


@bp.get("/propositions")
@login_required
def list_proposals(operation_id: int):
    """The proposals: a prescriber's own (and its form), or every one for the organisme
    porteur and the Région (each view logged)."""
    operation = load_operation(operation_id)
    _everyone, prescriber = _allowed(operation)
    return _answer(operation, _form(operation) if prescriber else None)


@bp.post("/propositions")
@login_required
def create_proposal(operation_id: int):
    """A prescriber proposes a candidate, with the consent statement it ticked."""
    operation = load_operation(operation_id)
    _everyone, prescriber = _allowed(operation)
    if not prescriber:
        abort(403)
    form = ProposalForm()
    if not form.validate_on_submit():
        return _answer(operation, form, status=422)
    expected = prescription.consent_text(operation, current_org())
    if form.consent_text.data != expected:
        # The statement changed since the page was opened (the operation's title, its
        # organisme): the prescriber reads the new one and ticks it again.
        form.consent.data, form.consent_text.data = False, expected
        form.consent.errors = [_("La déclaration a changé : relisez-la, puis cochez-la.")]
        return _answer(operation, form, status=422)
    data = form.to_data()

    def proposed(name: str):
        notice = _(
            "Candidature %(of_name)s proposée : l'organisme de formation en est informé.",
            of_name=de(name),
        )
        url = url_for("recruitment.list_proposals", operation_id=operation.id)
        return done(notice, url, lambda: _answer(operation, _form(operation), notice=notice))

    def refused(refusal):
        return _answer(operation, form, status=422, error=field_error(form, refusal))

    return act(
        lambda: (
            prescription.propose_candidate(
                operation, data, expected, by=current_user, org=current_org()
            ).full_name
        ),
        success=proposed,
        failure=refused,
    )
