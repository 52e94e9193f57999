"""Starting the co-design of an operation: its sections, each at version 1 with a
« prefill » revision, filled from the needs analysis (skills and public; the points of
attention start empty). The convention's clauses start the same way
(``add_prefilled_section``). They flush and never commit."""

import re

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.core.errors import RuleError
from portal.core.text import comparison_key
from portal.design.content import skill_askers, skill_item
from portal.design.models import Design, DesignSection, SectionKey, SectionRevision
from portal.design.services import design_for, empty_content, is_started, new_id
from portal.extensions import db
from portal.operations.events import log_event
from portal.operations.models import EmployerNeed, NeedsAnalysis, Operation, Status
from portal.operations.needs import BARRIERS, TARGET_PUBLICS


def merged_skills(needs) -> list[dict]:
    """The skill items of the prefill from ``needs``, ``(employer id, skills text)`` pairs:
    one per line (or ``;``, ``,``) of each text, in order; a skill several employers say
    (whatever the case, accents or spacing) is one item, worded as the first said it,
    asked by the first (``employer_id``) and by the others (``also_asked_by``)."""
    items: dict[str, dict] = {}
    for employer_id, text in needs:
        for label in re.split(r"[\n;,]+", text or ""):
            label = " ".join(label.split())[:200]
            if not label:
                continue
            item = items.get(key := comparison_key(label))
            if item is None:
                items[key] = skill_item(new_id(), {"label": label, "employer_id": employer_id})
            elif employer_id not in skill_askers(item):
                also = [*item.get("also_asked_by", []), employer_id]
                items[key] = skill_item(item["id"], {**item, "also_asked_by": also})
    return list(items.values())


def _prefill(operation: Operation) -> dict[SectionKey, dict]:
    """Skills and public taken from the needs analysis.

    Every participant reads the design, while each employer's need (positions,
    constraints) is for that employer and those who steer (the analysis page hides it). So
    the prefill carries only what the training is built on: the skills asked for and the
    publics. The points of attention start empty: the organisme writes there what it
    chooses to share of the employers' constraints (issue #11 L15).
    """
    content = {key: empty_content(key) for key in SectionKey.design_keys()}
    employer_needs = db.session.scalars(
        select(EmployerNeed)
        .where(EmployerNeed.operation_id == operation.id)
        .order_by(EmployerNeed.id)
    ).all()
    content[SectionKey.SKILLS] = {
        "items": merged_skills((need.organisation_id, need.skills) for need in employer_needs)
    }
    analysis = db.session.scalar(
        select(NeedsAnalysis).where(NeedsAnalysis.operation_id == operation.id)
    )
    if analysis is not None:
        publics = [str(TARGET_PUBLICS[p]) for p in analysis.target_publics if p in TARGET_PUBLICS]
        barriers = [str(BARRIERS[b]) for b in analysis.barriers if b in BARRIERS]
        lines = []
        if publics:
            lines.append(_("Publics : %(p)s", p=", ".join(publics)))
        if analysis.prerequisites:
            lines.append(_("Prérequis : %(p)s", p=analysis.prerequisites))
        if barriers:
            lines.append(_("Freins à lever : %(b)s", b=", ".join(barriers)))
        content[SectionKey.PUBLIC] = {"text": "\n".join(lines)}
    return content


def add_prefilled_section(
    design: Design,
    key: SectionKey,
    content: dict,
    *,
    by: User,
    org: Organisation,
    meeting_id: int | None = None,
) -> DesignSection:
    """A new section at version 1 with its « prefill » revision (design, clause, or the
    minutes of the meeting ``meeting_id``)."""
    section = DesignSection(
        design=design,
        key=key,
        version=1,
        content=content,
        updated_by_id=by.id,
        updated_org_id=org.id,
        meeting_id=meeting_id,
    )
    db.session.add(section)
    db.session.flush()
    db.session.add(
        SectionRevision(
            section=section,
            version=1,
            base_version=0,
            kind="prefill",
            content=content,
            author_id=by.id,
            organisation_id=org.id,
        )
    )
    return section


def start_design(operation: Operation, *, by: User, org: Organisation) -> Design:
    """Create the design of an operation in co-design, prefilled from the needs analysis."""
    design = design_for(operation)
    if is_started(design):
        return design
    if operation.status != Status.CO_DESIGN:
        raise RuleError(_("La co-conception commence quand l'opération est à cette étape."))
    if design is None:  # else it holds only a steering committee's minutes so far
        design = Design(operation=operation)
        db.session.add(design)
    for key, content in _prefill(operation).items():
        add_prefilled_section(design, key, content, by=by, org=org)
    db.session.flush()
    log_event(operation, "design_started", by=by, org=org)
    return design
