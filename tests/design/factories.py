"""Factories for the co-design tests: an operation taken to co-design, section contents,
and saves through the service (in the current context, or committed by e-mail)."""

from datetime import date

from portal.design import services, start
from portal.design.models import SectionKey
from portal.design.queries import load_design
from portal.extensions import db
from portal.operations import lifecycle, needs
from portal.operations import services as operations
from portal.operations.models import ContractType, Participant, ParticipantRole, Status
from tests.operations.factories import EMPLOYER, OF_A, REGION_ADMIN, Market
from tests.support import committed, org_named, user_with

SESSION = (date(2027, 1, 4), date(2027, 6, 25))


def to_co_design(market: Market):
    """An operation of Organisme A with Entreprise E, taken through the needs analysis to
    co-design (which starts its design); 420 h in centre and 140 h in company."""
    operation = market.report()
    operations.acknowledge_need(operation, by=market.referent, org=market.region)
    lifecycle.advance(operation, Status.ANALYSIS, by=market.a_user, org=market.of_a)
    need = needs.need_for(operation, market.employer)
    needs.save_employer_need(
        need,
        {
            "skills": "Nettoyage mécanisé ; protocoles d'hygiène\nTri des déchets",
            "constraint_hours": "Prise de poste à 6 h",
            "constraint_physical": "Station debout",
        },
        by=market.employer_user,
        org=market.employer,
    )
    needs.add_position(
        need,
        {"job_title": "Agent·e d'entretien", "count": 3, "contract_type": ContractType.CDI},
        by=market.employer_user,
        org=market.employer,
    )
    analysis = needs.analysis_for(operation)
    needs.save_analysis(
        analysis,
        {
            "target_publics": ["job_seekers", "youth"],
            "prerequisites": "Savoirs de base",
            "adaptations": "Un module d'hygiène renforcé",
        },
        by=market.a_user,
        org=market.of_a,
    )
    needs.send_analysis(analysis, by=market.a_user, org=market.of_a)
    needs.answer_analysis(analysis, "Accord", by=market.referent, org=market.region)
    operation.session_start, operation.session_end = SESSION
    operation.hours_centre, operation.hours_company = 420, 140
    lifecycle.advance(operation, Status.CO_DESIGN, by=market.a_user, org=market.of_a)
    return operation


def started_with_skills(market: Market, skills_e: str, skills_f: str):
    """An operation of Organisme A whose employers E and F wrote ``skills_e`` and
    ``skills_f`` in their needs, put in co-design (step set directly) and its design started
    (the prefill merges the skills they share): the design."""
    operation = market.report()
    db.session.add(
        Participant(
            operation=operation, organisation=market.employer2, role=ParticipantRole.EMPLOYER
        )
    )
    needs.need_for(operation, market.employer).skills = skills_e
    needs.need_for(operation, market.employer2).skills = skills_f
    operation.status = Status.CO_DESIGN
    return start.start_design(operation, by=market.a_user, org=market.of_a)


def item(**fields) -> dict:
    return {"id": services.new_id(), **fields}


def complete_contents(employer_id: int) -> dict:
    """Contents of every section that satisfy the gate (besides approval)."""
    skill = item(label="Nettoyer", block_code="", employer_id=employer_id)
    text = {"text": "Contenu rédigé."}
    return {
        SectionKey.OBJECTIVES: text,
        SectionKey.PUBLIC: text,
        SectionKey.SKILLS: {"items": [skill]},
        SectionKey.MODULES: {
            "items": [
                item(
                    title="Techniques de nettoyage",
                    hours=420,
                    place="centre",
                    employer_id=None,
                    skill_ids=[skill["id"]],
                    trainer="",
                )
            ]
        },
        SectionKey.RHYTHM: {
            "items": [
                period("centre", "2027-01-04", "2027-03-26", 420),
                period("immersion", "2027-03-29", "2027-04-30", 140, employer_id=employer_id),
            ]
        },
        SectionKey.PEDAGOGY: text,
        SectionKey.EVALUATION: text,
        SectionKey.MEANS: text,
    }


def filled_design(market: Market):
    """A design in co-design with every section filled to meet the gate (but approval)."""
    design = services.design_for(to_co_design(market))
    for key, content in complete_contents(market.employer.id).items():
        save(market, design.section(key), content)
    return design


def period(kind, start, end, hours, employer_id=None, label="") -> dict:
    return item(kind=kind, start=start, end=end, hours=hours, employer_id=employer_id, label=label)


def save(market, section, content, *, user=None, org=None, base=None, steering=True):
    """Save ``content`` in ``section`` through the service, as the organisme unless told."""
    return services.save_section(
        section,
        content,
        base_version=section.version if base is None else base,
        by=user or market.a_user,
        org=org or market.of_a,
        steering=steering,
    )


def section_of(operation_id: int, key: str = "objectives"):
    return load_design(operation_id).section(SectionKey(key))


def base_url(operation_id: int) -> str:
    return f"/operations/{operation_id}/conception"


# Accounts of the Market factory who save over HTTP-level tests, and their organisations.
ORGS = {OF_A: "Organisme A", EMPLOYER: "Entreprise E", REGION_ADMIN: "Région Centre-Val de Loire"}


def save_as(app, operation_id, content, key="objectives", email=OF_A, base=None) -> str:
    """Save ``content`` as ``email`` through the service (from the current version unless
    ``base``), committed; returns the save's status."""
    with committed(app):
        section = section_of(operation_id, key)
        result = services.save_section(
            section,
            content,
            base_version=base or section.version,
            by=user_with(email),
            org=org_named(ORGS[email]),
            steering=email != EMPLOYER,
        )
        return result.status
