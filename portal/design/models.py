"""The co-designed training: one design per operation, in versioned sections."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.models import Operation
from portal.steering.models import SteeringMeeting


@titled(
    {
        "objectives": _l("Objectifs de la formation"),
        "public": _l("Public visé et prérequis"),
        "skills": _l("Compétences visées"),
        "modules": _l("Modules"),
        "rhythm": _l("Rythme de l'alternance"),
        "pedagogy": _l("Modalités pédagogiques"),
        "evaluation": _l("Modalités d'évaluation et certification visée"),
        "means": _l("Moyens mobilisés"),
        "attention": _l("Points d'attention"),
        "conv_object": _l("Objet de la convention"),
        "conv_provider": _l("Engagements de l'organisme de formation"),
        "conv_employers": _l("Engagements des employeurs"),
        "conv_partners": _l("Engagements des partenaires"),
        "conv_region": _l("Rôle de la Région, pilote du dispositif"),
        "conv_followup": _l("Suivi dans l'emploi, évaluation et capitalisation"),
        "conv_steering": _l("Comité de pilotage"),
        "conv_data": _l("Protection des données personnelles"),
        "conv_duration": _l("Durée, modification et résiliation"),
        "eval_worked": _l("Ce qui a fonctionné"),
        "eval_difficulties": _l("Difficultés rencontrées"),
        "eval_adaptations": _l("Adaptations apportées"),
        "eval_certification": _l("Propositions d'évolution des certifications"),
        "minutes": _l("Compte rendu"),
    }
)
class SectionKey(TitledEnum):
    """The sections of a design, in the order of the page, then the convention's clauses,
    then the written parts of the operation's evaluation, then the minutes of the steering
    committee's meetings (one section per meeting: ``DesignSection.meeting_id``).

    The clauses of the partnership convention (keys starting with ``conv_``) and the
    evaluation's written parts (``eval_``) are edited with the same machinery as the
    design (versions, three-way merge, history, comments): they are sections of the same
    document, each kind shown on its own page (``page``).
    """

    OBJECTIVES = "objectives"
    PUBLIC = "public"
    SKILLS = "skills"
    MODULES = "modules"
    RHYTHM = "rhythm"
    PEDAGOGY = "pedagogy"
    EVALUATION = "evaluation"
    MEANS = "means"
    ATTENTION = "attention"
    CONV_OBJECT = "conv_object"
    CONV_PROVIDER = "conv_provider"
    CONV_EMPLOYERS = "conv_employers"
    CONV_PARTNERS = "conv_partners"
    CONV_REGION = "conv_region"
    CONV_FOLLOWUP = "conv_followup"
    CONV_STEERING = "conv_steering"
    CONV_DATA = "conv_data"
    CONV_DURATION = "conv_duration"
    EVAL_WORKED = "eval_worked"
    EVAL_DIFFICULTIES = "eval_difficulties"
    EVAL_ADAPTATIONS = "eval_adaptations"
    EVAL_CERTIFICATION = "eval_certification"
    MINUTES = "minutes"

    @property
    def is_list(self) -> bool:
        return self in LIST_SECTIONS

    @property
    def is_clause(self) -> bool:
        """A clause of the partnership convention rather than a section of the design."""
        return self.value.startswith("conv_")

    @property
    def is_assessment(self) -> bool:
        """A written part of the evaluation of the operation."""
        return self.value.startswith("eval_")

    @property
    def is_minutes(self) -> bool:
        """The minutes (compte rendu) of a steering committee meeting."""
        return self == SectionKey.MINUTES

    @property
    def is_design(self) -> bool:
        """A section of the training design itself."""
        return not (self.is_clause or self.is_assessment or self.is_minutes)

    @property
    def page(self) -> str:
        """The endpoint of the page that shows the section (a meeting's minutes: with
        ``DesignSection.page_args``)."""
        if self.is_clause:
            return "conventions.show_convention"
        if self.is_assessment:
            return "assessment.show_assessment"
        if self.is_minutes:
            return "steering.show_meeting"
        return "design.show_design"

    @property
    def mandatory(self) -> bool:
        """Required before the convention (the design's sections but its attention points)."""
        return self != SectionKey.ATTENTION and self.is_design

    @classmethod
    def design_keys(cls) -> list["SectionKey"]:
        return [key for key in cls if key.is_design]

    @classmethod
    def assessment_keys(cls) -> list["SectionKey"]:
        return [key for key in cls if key.is_assessment]

    @classmethod
    def clause_keys(cls) -> list["SectionKey"]:
        return [key for key in cls if key.is_clause]


LIST_SECTIONS = (SectionKey.SKILLS, SectionKey.MODULES, SectionKey.RHYTHM)


class Design(db.Model):
    """The training design of one operation; the Région approves it explicitly."""

    __tablename__ = "designs"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approval_comment: Mapped[str] = mapped_column(Text, default="")
    # What the convention version in force froze of the design, section key -> content
    # (None before the Région validates a first version): the sections' ``content`` is
    # then the draft of the next amendment (``portal/design/drafts.py``). None is SQL NULL,
    # never JSON ``null``, however the row is written (a bulk insert passes None too).
    in_force: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    in_force_number: Mapped[int | None] = mapped_column(Integer)
    in_force_signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # ``design_problems(include_approval=False)`` finds nothing but, maybe, a blocking
    # thread: kept by every flush that changes what it reads (``portal/design/gate.py``),
    # so that the Région's « À faire » finds the designs to approve in SQL (issue #16).
    gate_met: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false"), nullable=False
    )

    operation: Mapped[Operation] = relationship()
    approved_by: Mapped[User | None] = relationship()
    sections: Mapped[list["DesignSection"]] = relationship(
        back_populates="design",
        order_by="DesignSection.id",
        primaryjoin=lambda: and_(
            Design.id == DesignSection.design_id,
            DesignSection.key.in_(SectionKey.design_keys()),
        ),
    )
    # The convention's clauses: same table, same machinery, their own list.
    clauses: Mapped[list["DesignSection"]] = relationship(
        order_by="DesignSection.id",
        primaryjoin=lambda: and_(
            Design.id == DesignSection.design_id,
            DesignSection.key.in_(SectionKey.clause_keys()),
        ),
        viewonly=True,
    )

    # Every section but the committee's minutes (the design's, the clauses, the
    # evaluation's): a page showing several kinds reads them in one query.
    parts: Mapped[list["DesignSection"]] = relationship(
        order_by="DesignSection.id",
        primaryjoin=lambda: and_(
            Design.id == DesignSection.design_id, DesignSection.meeting_id.is_(None)
        ),
        viewonly=True,
    )

    # The evaluation's written parts, likewise.
    assessment_sections: Mapped[list["DesignSection"]] = relationship(
        order_by="DesignSection.id",
        primaryjoin=lambda: and_(
            Design.id == DesignSection.design_id,
            DesignSection.key.in_(SectionKey.assessment_keys()),
        ),
        viewonly=True,
    )

    def section(self, key: SectionKey) -> "DesignSection":
        if key.is_clause:
            sections = self.clauses
        elif key.is_assessment:
            sections = self.assessment_sections
        else:
            sections = self.sections
        return next(s for s in sections if s.key == key)


MINUTES_SLUG = "minutes-"


class DesignSection(db.Model):
    """One section; ``version`` grows at every saved change (optimistic concurrency)."""

    __tablename__ = "design_sections"
    # One section per key in a design, but the minutes: one per meeting of the committee.
    __table_args__ = (
        Index(
            "uq_design_sections_design_key",
            "design_id",
            "key",
            unique=True,
            sqlite_where=text("meeting_id IS NULL"),
            postgresql_where=text("meeting_id IS NULL"),
        ),
        # One section per meeting. Partial: a unique index holding every section would
        # lead SQLite to read all the sections of no meeting (nearly all of them) for
        # « meeting_id IS NULL », instead of one design's by design_id (issue #16).
        Index(
            "uq_design_sections_meeting_id",
            "meeting_id",
            unique=True,
            sqlite_where=text("meeting_id IS NOT NULL"),
            postgresql_where=text("meeting_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id"), index=True)
    key: Mapped[SectionKey] = mapped_column(db_enum(SectionKey))
    version: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    validated_at: Mapped[datetime | None] = mapped_column(DateTime)
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set when a change removed the validation, so the page can say so.
    unvalidated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The meeting whose minutes this section is (key ``minutes`` only).
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("steering_meetings.id"))

    design: Mapped[Design] = relationship(back_populates="sections")
    meeting: Mapped[SteeringMeeting | None] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    updated_org: Mapped[Organisation | None] = relationship(foreign_keys=[updated_org_id])
    validated_by: Mapped[User | None] = relationship(foreign_keys=[validated_by_id])

    @property
    def is_validated(self) -> bool:
        return self.validated_at is not None

    @property
    def slug(self) -> str:
        """The section's name in URLs and element ids: its key, or ``minutes-<meeting>``."""
        if self.meeting_id is not None:
            return f"{MINUTES_SLUG}{self.meeting_id}"
        return self.key.value

    @property
    def page_args(self) -> dict:
        """The URL values of its page besides the operation (``SectionKey.page``)."""
        return {"meeting_id": self.meeting_id} if self.meeting_id is not None else {}


class SectionRevision(db.Model):
    """A state of a section: every save, merge and restore — and drafts kept on conflict."""

    __tablename__ = "section_revisions"
    # One revision per version of a section, whatever races (issue #11); drafts have no
    # version, and NULLs never collide.
    __table_args__ = (
        Index("ix_section_revisions_section_version", "section_id", "version", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("design_sections.id"))
    # The section version this revision produced; None for a draft (not applied).
    version: Mapped[int | None] = mapped_column(Integer)
    base_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # prefill, save, merge, restore, draft
    content: Mapped[dict] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    section: Mapped[DesignSection] = relationship()
    author: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class DesignComment(db.Model):
    """A comment on a section; replies point to their thread; may be blocking."""

    __tablename__ = "design_comments"
    # The replies of a thread. Partial, as the minutes' index of ``DesignSection``: holding
    # the threads too, it led SQLite to read every thread of every design for « parent_id
    # IS NULL » (a page's threads) instead of the design's sections' (issue #16).
    __table_args__ = (
        Index(
            "ix_design_comments_parent_id",
            "parent_id",
            sqlite_where=text("parent_id IS NOT NULL"),
            postgresql_where=text("parent_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("design_sections.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("design_comments.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    body: Mapped[str] = mapped_column(Text)
    blocking: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    section: Mapped[DesignSection] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    organisation: Mapped[Organisation] = relationship()
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    replies: Mapped[list["DesignComment"]] = relationship(order_by="DesignComment.id")
    mentions: Mapped[list["CommentMention"]] = relationship(
        back_populates="comment", cascade="all, delete-orphan", order_by="CommentMention.id"
    )

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class CommentMention(db.Model):
    """A person or an organisation mentioned in a comment (they are notified)."""

    __tablename__ = "comment_mentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("design_comments.id", ondelete="CASCADE"), index=True
    )
    # indexed: « À faire » finds the mentions of a user or an organisation (issue #16)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)

    comment: Mapped[DesignComment] = relationship(back_populates="mentions")
    user: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class DesignPresence(db.Model):
    """Who has the design open, and which section they are editing; refreshed by polling."""

    __tablename__ = "design_presences"
    __table_args__ = (UniqueConstraint("design_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    editing: Mapped[str] = mapped_column(String(20), default="")
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()
