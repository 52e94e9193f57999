"""Demo: the Région's admin exported the operations (XLSX) from the dashboard; the file
was written as the worker writes it (``flask jobs work``) and waits in « Vos derniers
exports » — the page of the request shows it ready to download."""

from sqlalchemy import select

from portal.accounts.models import Membership, Organisation, User
from portal.core.time import utcnow
from portal.extensions import db
from portal.reporting import jobs
from portal.reporting.models import JobStatus
from portal.reporting.scope import Filters


def load_demo_exports(*, region: Organisation, region_admin: User) -> None:
    """Queue the export, take it as a worker would, write it (this commits)."""
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == region_admin.id, Membership.organisation_id == region.id
        )
    )
    job = jobs.request_export("operations", "xlsx", Filters(), membership=membership)
    job.status, job.started_at, job.attempts = JobStatus.RUNNING, utcnow(), 1
    db.session.flush()
    jobs.run(job.id)
