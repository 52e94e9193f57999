"""The Région's page of people who are members of two parties of one operation (issue #11
M6): for each operation it sees, the situations it has not approved — waiting, or refused
and still there — and, for those waiting, the form to approve or refuse (with a reason).

One widget (``#dual-memberships``) htmx swaps whole after a decision; without htmx the
page is posted and redirected. Only the Région acts (other participants: 403; outsiders of
the operation: 404, its existence hidden). A situation is named in the form by a hidden
``situation`` (user, first and second organisation ids), which also gives each form its
prefix: the page holds many.
"""

import re

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import htmx
from portal.accounts.access import acting_for_region, current_org, require
from portal.core.actions import act, done, form_refusal
from portal.operations import bp, dual_approvals, dual_memberships
from portal.operations.access import load_operation, visible_operations
from portal.operations.dual_memberships import Situation
from portal.operations.forms import APPROVE, DecideDualMembershipForm
from portal.operations.models import Operation

PAGE, WIDGET = "operations/dual_memberships.html", "operations/_dual_memberships.html"
SITUATION = re.compile(r"(\d+)-(\d+)-(\d+)")


def _name(situation: Situation) -> str:
    """The ``situation`` field's value: user, first and second organisation ids."""
    return f"{situation.user_id}-{situation.first_id}-{situation.second_id}"


def _form(situation: Situation, formdata=None) -> DecideDualMembershipForm:
    prefix = f"cumul-{situation.operation_id}-{_name(situation)}"
    return DecideDualMembershipForm(formdata=formdata, prefix=prefix)


def _render(status: int = 200, /, *, posted=None, error=None, notice=None):
    """The page (htmx: the widget); ``posted`` is the form sent back with its errors."""
    groups = []
    for operation, standings in dual_memberships.pending_by_operation(
        visible_operations(select(Operation.id))
    ):
        rows = []
        for standing in standings:
            form = None
            if standing.pending:
                same = posted is not None and posted[0] == standing.situation
                form = posted[1] if same else _form(standing.situation)
            rows.append({"standing": standing, "form": form, "name": _name(standing.situation)})
        groups.append({"operation": operation, "rows": rows})
    return htmx.render(PAGE, WIDGET, status, groups=groups, error=error, notice=notice)


@bp.get("/cumuls")
@login_required
def list_dual_memberships():
    """The situations the Région has to decide, operation by operation."""
    require(acting_for_region())
    return _render()


@bp.post("/<int:operation_id>/cumuls/decision")
@login_required
def decide_dual_membership(operation_id: int):
    """The Région approves or refuses one situation of the operation."""
    operation = load_operation(operation_id)
    require(acting_for_region())
    found = SITUATION.fullmatch(request.form.get("situation", ""))
    if found is None:
        abort(404)
    situation = Situation(operation.id, *(int(part) for part in found.groups()))
    form = _form(situation, formdata=request.form)
    posted = (situation, form)
    if not form.validate_on_submit():
        return _render(422, posted=posted, error=_("La décision n'est pas enregistrée."))
    approve = form.decision.data == APPROVE
    notice = _("Cumul approuvé : la convention le mentionne.") if approve else _("Cumul refusé.")
    url = url_for("operations.list_dual_memberships")
    return act(
        lambda: dual_approvals.decide(
            operation,
            situation,
            approve=approve,
            reason=form.reason.data or "",
            by=current_user,
            org=current_org(),
        ),
        success=lambda _request: done(notice, url, lambda: _render(notice=notice)),
        failure=form_refusal(form, lambda message: _render(422, posted=posted, error=message)),
    )
