"""Non-lasting promises: the page that lists them with why they do not count, and where
the Région accepts one with its reason (each row a widget of its own under htmx)."""

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, require
from portal.core.actions import act, done, field_error
from portal.extensions import db
from portal.operations.access import is_region, load_operation
from portal.operations.models import Position
from portal.recruitment import bp, lasting
from portal.recruitment.forms import AcceptNonLastingForm

PAGE = "recruitment/non_lasting.html"
ROW = "recruitment/_non_lasting_position.html"


def _context(operation, **overrides) -> dict:
    positions = lasting.non_lasting_positions(operation)
    accepted = lasting.acceptances(operation)
    region = is_region() and operation.is_open
    context = {
        "operation": operation,
        "positions": positions,
        "accepted": {p.id: lasting.holding(accepted.get(p.id), p) for p in positions},
        "explanations": {p.id: lasting.apart_explanation(p) for p in positions},
        "can_accept": region,
        "forms": {
            p.id: AcceptNonLastingForm(formdata=None, prefix=f"accept-{p.id}") for p in positions
        }
        if region
        else {},  # fmt: skip
        "notice": None,
        "error": None,
        "focus": None,
    }
    context.update(overrides)
    return context


@bp.get("/promesses-non-durables")
@login_required
def list_non_lasting(operation_id: int):
    """The non-lasting promises: accepted by the Région (with its reason), or listed apart
    with the French explanation of why they do not count."""
    operation = load_operation(operation_id)
    return htmx.render(PAGE, PAGE, **_context(operation))


@bp.post("/promesses-non-durables/<int:position_id>")
@login_required
def accept_non_lasting(operation_id: int, position_id: int):
    """The Région accepts that a non-lasting promise counts, with its reason."""
    operation = load_operation(operation_id)
    require(is_region())
    position = db.session.get(Position, position_id)
    if position is None or position.need.operation_id != operation.id:
        abort(404)
    form = AcceptNonLastingForm(prefix=f"accept-{position.id}")
    url = url_for("recruitment.list_non_lasting", operation_id=operation.id)

    def row(status=200, **shown):
        context = _context(operation, focus=position.id, **shown)
        position_now = next((p for p in context["positions"] if p.id == position.id), position)
        return htmx.render(PAGE, ROW, status, **context, position=position_now)

    def refused(refusal):
        message = field_error(form, refusal, "reason")
        return row(422, error=message, forms={position.id: form})

    if not form.validate_on_submit():
        return row(422, forms={position.id: form})
    notice = _(
        "Acceptation enregistrée : cette promesse compte pour « 1 stagiaire pour 1 promesse »."
    )
    return act(
        lambda: lasting.accept_non_lasting(
            position, form.reason.data, by=current_user, org=current_org()
        ),
        success=lambda _result: done(notice, url, lambda: row(notice=notice)),
        failure=refused,
    )
