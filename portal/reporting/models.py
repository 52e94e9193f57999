"""Exports made in the background: a request the Région's (or a partner's) dashboard
queues, a worker (``flask --app portal jobs work``) writes, the page follows and the
person who asked downloads while it is kept."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db
from portal.followup.models import MilestoneKind
from portal.lots.models import Category
from portal.operations.models import Status


@titled(
    {
        "queued": _l("En attente"),
        "running": _l("En cours"),
        "done": _l("Prêt"),
        "failed": _l("Échec"),
    }
)
class JobStatus(TitledEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(db.Model):
    """One export asked for: what (``export``, ``fmt``, the dashboard's filters as URL
    parameters), by whom and for which organisation (the rights it is written with), how
    far it got (``rows``: lines written so far) and where its file is kept (under the
    instance folder, ``stored`` naming it; the download is the asker's only)."""

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    export: Mapped[str] = mapped_column(String(30))
    fmt: Mapped[str] = mapped_column(String(10))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[JobStatus] = mapped_column(db_enum(JobStatus), default=JobStatus.QUEUED)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[str] = mapped_column(String(120), default="")
    download_name: Mapped[str] = mapped_column(String(120), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    progressed_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)  # file deleted (expired)

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()

    @property
    def is_queued(self) -> bool:
        return self.status == JobStatus.QUEUED

    @property
    def is_running(self) -> bool:
        return self.status == JobStatus.RUNNING

    @property
    def is_expired(self) -> bool:
        """Written, then deleted once kept long enough."""
        return self.status == JobStatus.DONE and self.removed_at is not None

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def is_ready(self) -> bool:
        return self.status == JobStatus.DONE and self.removed_at is None


PROMISE_COLUMNS = ("promises", "promises_lasting", "promises_kept", "promises_not_kept")
TRAINEE_COLUMNS = (
    "recruited",
    "in_training",
    "exited",
    "completed",
    "certified_full",
    "certified_partial",
    "employed_m6",
    "lasting_m6",
)
COUNTED = PROMISE_COLUMNS + TRAINEE_COLUMNS
EMPLOYMENT_COLUMNS = ("followed", "retained", "employed", "lasting", "with_promiser")


class CountedColumns:
    """The counts the dashboard adds up (``COUNTED``), kept per operation and per group."""

    promises: Mapped[int] = mapped_column(Integer, default=0)
    promises_lasting: Mapped[int] = mapped_column(Integer, default=0)
    promises_kept: Mapped[int] = mapped_column(Integer, default=0)
    promises_not_kept: Mapped[int] = mapped_column(Integer, default=0)
    recruited: Mapped[int] = mapped_column(Integer, default=0)
    in_training: Mapped[int] = mapped_column(Integer, default=0)
    exited: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    certified_full: Mapped[int] = mapped_column(Integer, default=0)
    certified_partial: Mapped[int] = mapped_column(Integer, default=0)
    employed_m6: Mapped[int] = mapped_column(Integer, default=0)
    lasting_m6: Mapped[int] = mapped_column(Integer, default=0)


class EmploymentColumns:
    """Employment at one milestone: the fields of ``followup.indicators.Employment``."""

    kind: Mapped[MilestoneKind] = mapped_column(db_enum(MilestoneKind))
    followed: Mapped[int] = mapped_column(Integer, default=0)
    retained: Mapped[int] = mapped_column(Integer, default=0)
    employed: Mapped[int] = mapped_column(Integer, default=0)
    lasting: Mapped[int] = mapped_column(Integer, default=0)
    with_promiser: Mapped[int] = mapped_column(Integer, default=0)


class DashboardGroup(CountedColumns, db.Model):
    """The counts of every operation sharing the values the dashboard filters on: its year
    (``scope.year_sql``), bassin, category, lot, organisme porteur and status
    (``reporting.groups`` keeps them). No lot or organisme is 0, not NULL, so that the
    unique key holds them too."""

    __tablename__ = "dashboard_groups"
    __table_args__ = (
        UniqueConstraint("year", "territory_id", "category", "lot_id", "provider_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    territory_id: Mapped[int] = mapped_column(Integer)
    category: Mapped[Category] = mapped_column(db_enum(Category))
    lot_id: Mapped[int] = mapped_column(Integer)
    provider_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[Status] = mapped_column(db_enum(Status))
    operations: Mapped[int] = mapped_column(Integer, default=0)
    target_headcount: Mapped[int] = mapped_column(Integer, default=0)


class DashboardGroupYear(EmploymentColumns, db.Model):
    """Employment at one milestone of a group's trainees who left in ``exit_year`` (0: not
    left)."""

    __tablename__ = "dashboard_group_years"
    __table_args__ = (UniqueConstraint("group_id", "exit_year", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("dashboard_groups.id"))
    exit_year: Mapped[int] = mapped_column(Integer)


class OperationFigures(CountedColumns, db.Model):
    """An operation's counts that the dashboard adds up (``reporting.summary`` keeps them):
    its promises, its trainees, their certifications and employment at +6 months; and the
    group and target headcount they were last added to (``reporting.groups``)."""

    __tablename__ = "operation_figures"

    operation_id: Mapped[int] = mapped_column(
        ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int | None] = mapped_column(ForeignKey("dashboard_groups.id"))
    target_headcount: Mapped[int | None] = mapped_column(Integer)


class OperationYearFigures(EmploymentColumns, db.Model):
    """Employment at one milestone of an operation's trainees who left in ``exit_year``
    (None: not left): the fields of ``followup.indicators.Employment``."""

    __tablename__ = "operation_year_figures"
    __table_args__ = (Index("ix_operation_year_figures_operation_id", "operation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"))
    exit_year: Mapped[int | None] = mapped_column(Integer)


class OperationSignatory(db.Model):
    """The standing (not voided) signatures of one organisation on the convention of an
    operation: the dashboard's signatory employers, kept like ``OperationFigures``."""

    __tablename__ = "operation_signatories"

    operation_id: Mapped[int] = mapped_column(
        ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signatures: Mapped[int] = mapped_column(Integer, default=0)


class OperationAwaiting(db.Model):
    """An operation's awaited follow-ups due on one day: the dashboard's overdue ones are
    those due before a date that moves with the day (``followup.rules.overdue_before``),
    so they are kept per due date, not as one count."""

    __tablename__ = "operation_awaiting"

    operation_id: Mapped[int] = mapped_column(
        ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True
    )
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    milestones: Mapped[int] = mapped_column(Integer, default=0)


class DashboardGroupSignatory(db.Model):
    """``OperationSignatory`` added up per group (``reporting.groups``)."""

    __tablename__ = "dashboard_group_signatories"
    __table_args__ = (UniqueConstraint("group_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("dashboard_groups.id"))
    organisation_id: Mapped[int] = mapped_column(Integer)
    signatures: Mapped[int] = mapped_column(Integer, default=0)


class DashboardGroupAwaiting(db.Model):
    """``OperationAwaiting`` added up per group (``reporting.groups``)."""

    __tablename__ = "dashboard_group_awaiting"
    __table_args__ = (UniqueConstraint("group_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("dashboard_groups.id"))
    due_on: Mapped[date] = mapped_column(Date)
    milestones: Mapped[int] = mapped_column(Integer, default=0)
