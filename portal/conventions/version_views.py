"""The page of one frozen version: its text as signed, its SHA-256, its signatures, and
for a signer who saw an earlier version, what changed since.

Opening a version is evidence (audited once per person, see ``services.mark_opened``):
this GET writes on purpose, as the route inventory allows — only on the user's own
navigation (``portal.security.own_navigation``), never for a link on another site.
"""

from flask import render_template
from flask_login import current_user, login_required

from portal.accounts.access import current_org
from portal.conventions import bp, services
from portal.conventions.context import load_started
from portal.conventions.version_context import PAGE, version_context, version_or_404
from portal.extensions import db
from portal.security import own_navigation


@bp.get("/versions/<int:number>")
@login_required
def show_version(operation_id: int, number: int):
    """A frozen version as it was submitted; the first opening is recorded as evidence."""
    operation, convention = load_started(operation_id)
    version = version_or_404(convention, number)
    previous = services.last_seen_version(convention, current_user, version)
    # A reader new to the convention (a party joining by the amendment) still sees what
    # the amendment changes in the version in force.
    amended = services.amended_version(version) if previous is None else None
    context = version_context(
        operation, convention, version, previous=previous or amended, amends=amended is not None
    )
    if own_navigation() and services.mark_opened(version, user=current_user, org=current_org()):
        db.session.commit()
    return render_template(PAGE, **context)
