"""One's own follow-ups across operations: « Suivi de mes recrutés » for an employer (the
trainees it promised a job to or hired), « Suivi de mes orienté·es » for a prescriber, and
every follow-up of its operations for an organisme porteur or the Région — filtered by
state with htmx. The home page's card counts them. Each list writes the access log."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org
from portal.accounts.models import OrgKind
from portal.extensions import db
from portal.followup import employment_bp, queries, rules
from portal.followup.context import state_filter
from portal.followup.models import MilestoneKind

PAGE = "followup/mine.html"
RESULTS = "followup/_mine_results.html"
TITLES = {
    OrgKind.EMPLOYER: _l("Suivi de mes recrutés"),
    OrgKind.PARTNER: _l("Suivi de mes orienté·es"),
    OrgKind.PROVIDER: _l("Suivis dans l'emploi de mes opérations"),
    OrgKind.REGION: _l("Suivis dans l'emploi des opérations"),
}


@employment_bp.get("")
@login_required
def list_followups():
    """The follow-ups of the current organisation across the operations it sees."""
    org = current_org()
    filters, state = state_filter()
    today, window = rules.today(), rules.window_days()
    page, rows = queries.mine_page(org, state, today=today, window=window)
    queries.log_list_access(page.items, current_user, org)
    response = htmx.render(
        PAGE,
        RESULTS,
        title=TITLES[org.kind],
        filters=filters,
        state=state,
        pagination=page,
        rows=rows,
        kinds=list(MilestoneKind),
    )
    db.session.commit()  # the access log lines
    return response


@employment_bp.app_template_global()
def followup_home() -> dict | None:
    """The home page's card: one's follow-ups by state (None when there are none)."""
    org = current_org()
    counts = queries.home_counts(org) if org is not None else None
    if counts is None:
        return None
    return {"title": TITLES[org.kind], "counts": counts}
