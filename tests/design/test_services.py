"""Rules of the co-design, on the services without HTTP: the design starts prefilled, saves
merge or keep a draft (nothing typed is lost), validated sections are reserved, the Région
approves, and the gate to the convention names each unmet condition."""

import pytest
from sqlalchemy import select

from portal.core.errors import RuleError
from portal.design import comments, services, start
from portal.design.content import skill_askers
from portal.design.models import SectionKey, SectionRevision
from portal.design.services import design_for, design_problems
from portal.extensions import db
from portal.operations import lifecycle
from portal.operations.models import Status
from tests.design.factories import (
    complete_contents,
    item,
    period,
    save,
    started_with_skills,
    to_co_design,
)
from tests.operations.factories import Market


def fill(market, design) -> None:
    for key, content in complete_contents(market.employer.id).items():
        save(market, design.section(key), content)


def conflicting_draft(market, section):
    """The organisme's « Mon texte », written from version 2, meets the employer's version 3."""
    save(market, section, {"text": "Initial"})
    save(market, section, {"text": "Leur texte"}, user=market.employer_user)
    return save(market, section, {"text": "Mon texte"}, base=2).draft


@pytest.fixture
def market(ctx):
    return Market()


@pytest.fixture
def design(market):
    return design_for(to_co_design(market))


# --- Start ------------------------------------------------------------------------------


def test_advancing_to_co_design_starts_the_design_prefilled_from_the_needs(market):
    operation = to_co_design(market)
    design = design_for(operation)
    assert [s.key for s in design.sections] == SectionKey.design_keys()
    assert all(s.version == 1 for s in design.sections)
    skills = design.section(SectionKey.SKILLS).content["items"]
    assert [s["label"] for s in skills] == [
        "Nettoyage mécanisé",
        "protocoles d'hygiène",
        "Tri des déchets",
    ]
    assert {s["employer_id"] for s in skills} == {market.employer.id}
    public = design.section(SectionKey.PUBLIC).content["text"]
    assert "Demandeurs d'emploi" in public and "Savoirs de base" in public
    assert design.section(SectionKey.ATTENTION).content == {"text": ""}
    assert design.section(SectionKey.OBJECTIVES).content == {"text": ""}
    kinds = db.session.scalars(select(SectionRevision.kind)).all()
    assert kinds == ["prefill"] * len(SectionKey.design_keys())


def test_the_prefill_does_not_share_an_employers_constraints(market):
    """Issue #11 L15: every participant reads the design, so the prefill no longer copies
    each employer's constraints (named after it) into the points of attention."""
    design = design_for(to_co_design(market))
    shared = [str(section.content) for section in design.sections]
    assert not any("Prise de poste" in text or "Station debout" in text for text in shared)
    assert not any("Entreprise E" in text for text in shared)


def test_skills_several_employers_say_alike_are_one_kept_with_who_asked():
    """Issue #15: case, accents and spacing aside, one skill; worded as the first said it."""
    skills = start.merged_skills(
        [
            (1, "Conduite de chariot ; Hygiène des locaux"),
            (2, "conduite de  CHARIOT\nTri des déchets, hygiene des locaux"),
            (3, "Conduite de chariot"),
            (2, "Conduite de chariot"),  # the same employer twice counts once
        ]
    )
    by_label = {s["label"]: skill_askers(s) for s in skills}
    assert by_label == {
        "Conduite de chariot": [1, 2, 3],
        "Hygiène des locaux": [1, 2],
        "Tri des déchets": [2],
    }
    assert len({s["id"] for s in skills}) == 3
    assert "also_asked_by" not in skills[2]  # one asker: the keys a skill always had


def test_the_prefill_merges_the_skills_employers_share(market):
    design = started_with_skills(
        market, "Conduite de chariot ; Hygiène", "conduite de  CHARIOT\nTri"
    )
    skills = design.section(SectionKey.SKILLS).content["items"]
    assert [(s["label"], skill_askers(s)) for s in skills] == [
        ("Conduite de chariot", [market.employer.id, market.employer2.id]),
        ("Hygiène", [market.employer.id]),
        ("Tri", [market.employer2.id]),
    ]


def test_the_design_starts_only_in_co_design_and_once(market):
    operation = market.report()
    with pytest.raises(RuleError, match="commence"):
        start.start_design(operation, by=market.a_user, org=market.of_a)
    operation.status = Status.CO_DESIGN
    first = start.start_design(operation, by=market.a_user, org=market.of_a)
    assert start.start_design(operation, by=market.a_user, org=market.of_a) is first


# --- Save, merge, conflict --------------------------------------------------------------


def test_save_from_the_current_version_creates_a_revision(market, design):
    section = design.section(SectionKey.OBJECTIVES)
    result = save(market, section, {"text": "Former dix agents."})
    assert result.status == "saved" and section.version == 2
    assert services.revision_at(section, 2).content == {"text": "Former dix agents."}
    assert save(market, section, {"text": "Former dix agents."}).status == "unchanged"
    assert section.version == 2


def test_non_overlapping_text_edits_are_merged_and_both_kept(market, design):
    section = design.section(SectionKey.OBJECTIVES)
    save(market, section, {"text": "un\ndeux\ntrois\nquatre\n"})
    save(
        market,
        section,
        {"text": "UN\ndeux\ntrois\nquatre\n"},
        user=market.employer_user,
        org=market.employer,
        steering=False,
    )
    result = save(market, section, {"text": "un\ndeux\ntrois\nQUATRE\n"}, base=2)
    assert result.status == "merged"
    assert section.content == {"text": "UN\ndeux\ntrois\nQUATRE\n"}
    assert result.other_authors == ["Camille Martin (Entreprise E)"]


def test_overlapping_edits_keep_the_users_text_as_a_draft_and_change_nothing(market, design):
    section = design.section(SectionKey.OBJECTIVES)
    save(market, section, {"text": "Objectif initial"})
    save(market, section, {"text": "Objectif de l'employeur"}, user=market.employer_user)
    result = save(market, section, {"text": "Objectif de l'organisme"}, base=2)
    assert result.status == "conflict"
    assert section.version == 3 and section.content == {"text": "Objectif de l'employeur"}
    assert result.draft.content == {"text": "Objectif de l'organisme"}
    assert result.draft.version is None and result.draft.resolved_at is None
    assert services.open_drafts(section, market.a_user) == [result.draft]


def test_resolving_a_conflict_saves_the_choice_and_closes_the_draft(market, design):
    section = design.section(SectionKey.OBJECTIVES)
    draft = conflicting_draft(market, section)
    result = services.resolve_conflict(
        section,
        draft,
        {"text": "Mon texte et le leur"},
        base_version=3,
        by=market.a_user,
        org=market.of_a,
        steering=True,
    )
    assert result.status == "saved" and section.content == {"text": "Mon texte et le leur"}
    assert draft.resolved_at is not None
    assert services.open_drafts(section, market.a_user) == []
    with pytest.raises(RuleError, match="pas le vôtre"):
        services.resolve_conflict(
            section,
            draft,
            {"text": "x"},
            base_version=4,
            by=market.employer_user,
            org=market.employer,
            steering=False,
        )


def test_a_discarded_draft_stays_in_the_history(market, design):
    section = design.section(SectionKey.OBJECTIVES)
    draft = conflicting_draft(market, section)
    services.discard_draft(draft, by=market.a_user)
    assert services.open_drafts(section, market.a_user) == []
    assert db.session.get(SectionRevision, draft.id).content == {"text": "Mon texte"}
    assert section.content == {"text": "Leur texte"}


def test_list_additions_from_both_sides_are_kept_and_same_item_edits_conflict(market, design):
    section = design.section(SectionKey.SKILLS)
    prefilled = section.content["items"]
    theirs_new = item(label="Autonomie", block_code="", employer_id=None)
    mine_new = item(label="Travail en équipe", block_code="", employer_id=None)
    save(market, section, {"items": [*prefilled, theirs_new]}, user=market.employer_user)
    result = save(market, section, {"items": [*prefilled, mine_new]}, base=1)
    assert result.status == "merged"
    labels = [s["label"] for s in section.content["items"]]
    assert "Autonomie" in labels and "Travail en équipe" in labels

    first = section.content["items"][0]
    version = section.version
    save(
        market,
        section,
        {"items": [{**first, "label": "Leur libellé"}, *section.content["items"][1:]]},
    )
    mine = [{**first, "label": "Mon libellé"}, *section.content["items"][1:]]
    result = save(market, section, {"items": mine}, base=version)
    assert result.status == "conflict"
    assert [c.id for c in result.list_merge.conflicts] == [first["id"]]
    assert result.draft.content == {"items": mine}


def test_restoring_an_old_revision_creates_a_new_one(market, design):
    section = design.section(SectionKey.OBJECTIVES)
    save(market, section, {"text": "Première"})
    save(market, section, {"text": "Seconde"})
    services.restore_revision(
        section, services.revision_at(section, 2), by=market.a_user, org=market.of_a, steering=True
    )
    assert section.version == 4 and section.content == {"text": "Première"}
    assert services.revision_at(section, 4).kind == "restore"
    assert services.revision_at(section, 3).content == {"text": "Seconde"}


@pytest.mark.parametrize("status", [Status.ANALYSIS, Status.CLOSED, Status.CANCELLED])
def test_sections_are_closed_outside_co_design_and_amendments(market, design, status):
    design.operation.status = status
    with pytest.raises(RuleError, match="close"):
        save(market, design.section(SectionKey.OBJECTIVES), {"text": "Trop tard"})


# --- Validation -------------------------------------------------------------------------


def test_a_validated_section_is_reserved_and_a_change_unvalidates_it(market, design):
    section = design.section(SectionKey.SKILLS)
    services.set_validated(section, True, by=market.a_user, org=market.of_a)
    assert section.is_validated
    changed = {"items": section.content["items"][:1]}
    with pytest.raises(RuleError, match="Section validée"):
        save(market, section, changed, user=market.employer_user, steering=False)
    assert section.version == 1
    save(market, section, changed, user=market.referent, org=market.region)
    assert not section.is_validated and section.unvalidated_at is not None


def test_only_the_carrier_and_the_region_validate_and_never_an_empty_section(market, design):
    section = design.section(SectionKey.OBJECTIVES)
    with pytest.raises(RuleError, match="Seuls"):
        services.set_validated(section, True, by=market.employer_user, org=market.employer)
    with pytest.raises(RuleError, match="vide"):
        services.set_validated(section, True, by=market.referent, org=market.region)


# --- Approval and the gate to the convention --------------------------------------------


def test_the_gate_holds_until_the_design_is_complete_and_approved(market, design):
    operation = design.operation
    fill(market, design)
    assert lifecycle.unmet_conditions(operation, Status.CONVENTION) == [
        "La Région n'a pas approuvé la co-conception."
    ]
    with pytest.raises(RuleError, match="Seule la Région"):
        services.approve_design(design, by=market.a_user, org=market.of_a)
    services.approve_design(design, by=market.referent, org=market.region, comment="Bon travail")
    assert lifecycle.unmet_conditions(operation, Status.CONVENTION) == []
    lifecycle.advance(operation, Status.CONVENTION, by=market.a_user, org=market.of_a)
    assert operation.status == Status.CONVENTION


def test_a_change_after_approval_withdraws_it(market, design):
    fill(market, design)
    services.approve_design(design, by=market.referent, org=market.region)
    save(market, design.section(SectionKey.MEANS), {"text": "Un plateau de plus."})
    assert design.approved_at is None
    assert "La Région n'a pas approuvé la co-conception." in design_problems(design)


def test_approval_is_refused_with_the_unmet_conditions(market, design):
    with pytest.raises(RuleError, match="Sections obligatoires à remplir"):
        services.approve_design(design, by=market.referent, org=market.region)
    assert design.approved_at is None


def _problems_with(market, design, key, content) -> list[str]:
    fill(market, design)
    save(market, design.section(key), content)
    return design_problems(design, include_approval=False)


@pytest.mark.parametrize(
    ("key", "content", "expected"),
    [
        (SectionKey.OBJECTIVES, {"text": "  "}, "Sections obligatoires à remplir : Objectifs"),
        (SectionKey.SKILLS, {"items": []}, "Sections obligatoires à remplir : Compétences"),
        (SectionKey.MODULES, {"items": []}, "Sections obligatoires à remplir : Modules"),
        (
            SectionKey.RHYTHM,
            {"items": [period("centre", "2027-01-04", "2027-03-26", 400)]},
            "Le rythme compte 400 h en centre pour 420 h prévues.",
        ),
    ],
    ids=["mandatory-text", "no-skill", "no-module", "hours"],
)
def test_the_gate_names_each_unmet_condition(market, design, key, content, expected):
    problems = _problems_with(market, design, key, content)
    assert any(p.startswith(expected) for p in problems), problems
    assert lifecycle.unmet_conditions(design.operation, Status.CONVENTION)[0] == problems[0]


def test_points_of_attention_are_optional(market, design):
    fill(market, design)
    save(market, design.section(SectionKey.ATTENTION), {"text": ""})
    assert design_problems(design, include_approval=False) == []


def test_an_open_blocking_comment_holds_the_gate(market, design):
    fill(market, design)
    section = design.section(SectionKey.MODULES)
    comment = comments.add_comment(
        section, "Il manque le module CACES.", by=market.employer_user, org=market.employer,
        blocking=True,
    )  # fmt: skip
    assert design_problems(design, include_approval=False) == [
        "Un commentaire bloquant n'est pas résolu."
    ]
    comments.set_comment_resolved(comment, True, by=market.a_user, org=market.of_a)
    assert design_problems(design, include_approval=False) == []


def test_no_design_no_convention(market):
    operation = market.report()
    operation.status = Status.CO_DESIGN
    assert lifecycle.unmet_conditions(operation, Status.CONVENTION) == [
        "La co-conception n'a pas commencé."
    ]
