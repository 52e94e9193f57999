"""The co-design page and its sections over HTTP: page and fragments, edit in place, saves
that merge or answer the conflict view (409) keeping the user's text, French errors (422),
validation, approval, plain-form fallbacks (303), outsiders (404) and query counts."""

import html
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.design import services
from portal.design.comments import add_comment
from portal.design.models import Design, SectionKey, SectionRevision
from portal.design.queries import load_design
from portal.extensions import db
from portal.operations import services as operations
from portal.operations.models import Operation, Participant, ParticipantRole, Status
from tests.design.factories import complete_contents, item, period, to_co_design
from tests.operations.factories import (
    EMPLOYER,
    EMPLOYER2,
    OF_A,
    OF_B,
    PARTNER,
    REFERENT,
    REGION_ADMIN,
    Market,
    set_status,
)
from tests.support import (
    HTMX,
    committed,
    count_queries,
    flashes,
    login_as,
    org_named,
    snapshot,
    user_with,
)

SECTION_ROOT = re.compile(r'^\s*<section id="section-(\w+)" class="design-section[^"]*"')


@pytest.fixture
def op(app):
    """An operation in co-design, design started; Entreprise E and Partenaire P take part."""
    with committed(app):
        market = Market()
        operation = to_co_design(market)
        operations.add_participant(
            operation,
            market.partner,
            ParticipantRole.PARTNER_EMPLOYMENT,
            by=market.a_user,
            org=market.of_a,
        )
        return SimpleNamespace(
            id=operation.id, employer=market.employer.id, employer2=market.employer2.id
        )


def url(op, path: str = "") -> str:
    return f"/operations/{op.id}/conception{path}"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def section(app, op, key: str):
    """A detached copy of the section, read in a fresh session."""
    with app.app_context():
        row = load_design(op.id).section(SectionKey(key))
        db.session.expunge(row)
        return row


def save_as(app, op, key: str, content: dict, email: str):
    """Save through the services as the user ``email`` (someone else, meanwhile)."""
    with committed(app):
        user = user_with(email)
        org = user.active_memberships()[0].organisation
        target = load_design(op.id).section(SectionKey(key))
        services.save_section(
            target,
            content,
            base_version=target.version,
            by=user,
            org=org_named(org.name),
            steering=org.kind.value in ("provider", "region"),
        )


def the_draft(app) -> int:
    """The id of the (only) conflict draft."""
    with app.app_context():
        return db.session.scalar(select(SectionRevision.id).where(SectionRevision.kind == "draft"))


def post_text(client, op, key, value, base_version, **kwargs):
    data = {"base_version": base_version, f"{key}-text": value}
    return client.post(url(op, f"/{key}"), data=data, **kwargs)


# --- The page and its fragments ----------------------------------------------------------


@pytest.mark.parametrize("email", [REGION_ADMIN, REFERENT, OF_A, EMPLOYER, PARTNER])
def test_every_participant_opens_the_page(app, client, op, email):
    login_as(client, email)
    response = client.get(url(op))
    assert response.status_code == 200
    page = text(response)
    for key in SectionKey.design_keys():
        assert f'id="section-{key.value}"' in page and key.title in page
    assert 'id="design-gate"' in page
    assert "La Région n'a pas approuvé la co-conception" in page


DESIGN_ROUTES = [
    ("GET", ""),
    ("POST", "/demarrage"),
    ("POST", "/approbation"),
    ("GET", "/objectives"),
    ("POST", "/objectives"),
    ("GET", "/objectives/modification"),
    ("POST", "/objectives/modification"),
    ("POST", "/objectives/conflit/1"),
    ("POST", "/objectives/brouillon/1/abandon"),
    ("POST", "/objectives/validation"),
]


@pytest.mark.parametrize("email", [OF_B, EMPLOYER2])
def test_outsiders_get_404_everywhere_and_change_nothing(app, client, op, email):
    login_as(client, email)
    before = snapshot(app)
    statuses = {}
    for method, path in DESIGN_ROUTES:
        data = {"base_version": "1", "objectives-text": "Intrusion", "validated": "1"}
        response = client.open(
            url(op, path), method=method, data=data if method == "POST" else None
        )
        statuses[(method, path)] = response.status_code
    assert set(statuses.values()) == {404}, statuses
    assert snapshot(app) == before


def test_unknown_section_is_404(app, client, op):
    login_as(client, OF_A)
    assert client.get(url(op, "/inconnue")).status_code == 404
    assert client.get(url(op, "/inconnue/modification")).status_code == 404


def test_section_fragment_for_htmx_and_the_page_without(app, client, op):
    login_as(client, EMPLOYER)
    fragment = text(client.get(url(op, "/skills"), headers=HTMX))
    assert SECTION_ROOT.match(fragment).group(1) == "skills"
    assert 'data-version="1"' in fragment and 'aria-labelledby="title-skills"' in fragment
    assert '<span id="editing-skills" class="editing-indicator"></span>' in fragment
    assert 'id="comment-count-skills"' in fragment and 'id="changed-skills"' in fragment
    assert "<html" not in fragment
    assert "Nettoyage mécanisé" in fragment  # prefilled from the employer's need
    page = client.get(url(op, "/skills"))
    assert page.status_code == 200 and "<html" in text(page)


def test_edit_form_in_place_and_as_a_page(app, client, op):
    login_as(client, PARTNER)
    fragment = text(client.get(url(op, "/objectives/modification"), headers=HTMX))
    assert SECTION_ROOT.match(fragment).group(1) == "objectives"
    assert 'name="base_version" value="1"' in fragment
    assert 'name="objectives-text"' in fragment and "Annuler" in fragment
    page = client.get(url(op, "/objectives/modification"))
    assert page.status_code == 200 and 'name="objectives-text"' in text(page)


def test_list_form_has_one_fieldset_per_item_and_a_blank_row(app, client, op):
    login_as(client, EMPLOYER)
    form = text(client.get(url(op, "/skills/modification?ajout=2"), headers=HTMX))
    assert form.count("<fieldset") == 3 + 1 + 2  # three prefilled skills, a blank row, two more
    assert form.count('name="skills-items-0-delete"') == 1
    assert "Ajouter une ligne" in form


# --- Saving --------------------------------------------------------------------------------


def test_save_renders_the_section_with_a_notice_and_the_gate(app, client, op):
    login_as(client, EMPLOYER)
    response = post_text(client, op, "objectives", "Former dix agents.", 1, headers=HTMX)
    assert response.status_code == 200
    body = text(response)
    assert SECTION_ROOT.match(body).group(1) == "objectives"
    assert "Section enregistrée." in body and 'data-version="2"' in body
    assert 'id="design-gate" class="card" aria-labelledby="gate-title" hx-swap-oob="true"' in body
    saved = section(app, op, "objectives")
    assert saved.content == {"text": "Former dix agents."} and saved.version == 2


def test_save_without_js_redirects_to_the_page(app, client, op):
    login_as(client, EMPLOYER)
    response = post_text(client, op, "objectives", "Former dix agents.", 1)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(op) + "#section-objectives")
    assert flashes(client) == [("success", "Section enregistrée.")]


def test_a_stale_save_that_does_not_overlap_is_merged_and_said(app, client, op):
    save_as(app, op, "objectives", {"text": "un\ndeux\ntrois\nquatre"}, OF_A)
    login_as(client, EMPLOYER)
    save_as(app, op, "objectives", {"text": "UN\ndeux\ntrois\nquatre"}, REGION_ADMIN)
    response = post_text(client, op, "objectives", "un\ndeux\ntrois\nQUATRE", 2, headers=HTMX)
    assert response.status_code == 200
    assert "Vos modifications ont été fusionnées avec celles de Camille Martin (Région" in text(
        response
    )
    assert section(app, op, "objectives").content == {"text": "UN\ndeux\ntrois\nQUATRE"}


def test_a_stale_save_without_change_creates_no_version(app, client, op):
    save_as(app, op, "objectives", {"text": "Objectif"}, OF_A)
    login_as(client, EMPLOYER)
    save_as(app, op, "objectives", {"text": "Objectif révisé"}, REGION_ADMIN)
    response = post_text(client, op, "objectives", "Objectif", 2, headers=HTMX)
    assert response.status_code == 200
    assert "Aucune modification : la section est inchangée." in text(response)
    saved = section(app, op, "objectives")
    assert saved.version == 3 and saved.content == {"text": "Objectif révisé"}


def test_an_overlapping_save_answers_the_conflict_view_and_keeps_the_text(app, client, op):
    save_as(app, op, "objectives", {"text": "Objectif initial"}, OF_A)
    save_as(app, op, "objectives", {"text": "Objectif de la Région"}, REGION_ADMIN)
    login_as(client, EMPLOYER)
    response = post_text(client, op, "objectives", "Objectif de l'employeur", 2, headers=HTMX)
    assert response.status_code == 409
    body = text(response)
    assert SECTION_ROOT.match(body).group(1) == "objectives"
    mine = body.index("Votre version (brouillon)")
    theirs = body.index("Version enregistrée (version 3)")
    assert (
        mine < body.index("Objectif de l'employeur") < theirs < body.rindex("Objectif de la Région")
    )
    assert 'name="base_version" value="3"' in body
    assert section(app, op, "objectives").content == {"text": "Objectif de la Région"}
    # The text waits as a draft: the page opens the section in conflict mode again.
    assert "Objectif de l'employeur" in text(client.get(url(op)))

    draft_id = the_draft(app)
    resolve = url(op, f"/objectives/conflit/{draft_id}")
    response = client.post(resolve, data={"base_version": 3, "choice": "mine"}, headers=HTMX)
    assert response.status_code == 200 and "Section enregistrée." in text(response)
    assert section(app, op, "objectives").content == {"text": "Objectif de l'employeur"}
    assert "Votre version (brouillon)" not in text(client.get(url(op)))


def test_conflict_without_js_is_a_page_and_resolves_with_a_text_of_ones_own(app, client, op):
    save_as(app, op, "objectives", {"text": "A"}, OF_A)
    save_as(app, op, "objectives", {"text": "B"}, REGION_ADMIN)
    login_as(client, EMPLOYER)
    response = post_text(client, op, "objectives", "C", 2)
    assert response.status_code == 409 and "<html" in text(response)
    draft_id = the_draft(app)
    resolve = url(op, f"/objectives/conflit/{draft_id}")
    refused = client.post(resolve, data={"base_version": 3, "choice": ""})
    assert refused.status_code == 422 and "Choisissez la version à garder." in text(refused)
    data = {"base_version": 3, "choice": "custom", "custom_text": "B et C"}
    response = client.post(resolve, data=data)
    assert response.status_code == 303
    assert section(app, op, "objectives").content == {"text": "B et C"}


def test_a_hand_merged_text_without_a_choice_is_kept_and_not_by_others(app, client, op):
    """Issue #15: typing in the hand-merged text chooses it; sent without the radio, the
    server reads it so. Another organisation cannot resolve someone's conflict."""
    save_as(app, op, "objectives", {"text": "A"}, OF_A)
    save_as(app, op, "objectives", {"text": "B"}, REGION_ADMIN)
    login_as(client, EMPLOYER)
    page = text(post_text(client, op, "objectives", "C", 2, headers=HTMX))
    assert 'id="choice-custom-objectives"' in page
    assert 'data-checks="choice-custom-objectives"' in page
    resolve = url(op, f"/objectives/conflit/{the_draft(app)}")
    data = {"base_version": 3, "custom_text": "B puis C"}
    login_as(client, OF_B)
    assert client.post(resolve, data=data, headers=HTMX).status_code == 404
    login_as(client, EMPLOYER)
    response = client.post(resolve, data=data, headers=HTMX)
    assert response.status_code == 200 and "Section enregistrée." in text(response)
    assert section(app, op, "objectives").content == {"text": "B puis C"}


def test_a_skill_several_employers_asked_for_names_them_all(app, client, op):
    """Issue #15: the prefill merged a skill E and F both asked for; the page says both."""
    with committed(app):
        operation = db.session.get(Operation, op.id)
        db.session.add(
            Participant(
                operation=operation, organisation_id=op.employer2, role=ParticipantRole.EMPLOYER
            )
        )
    skill = item(label="Conduite de chariot", employer_id=op.employer, also_asked_by=[op.employer2])
    save_as(app, op, "skills", {"items": [skill]}, OF_A)
    login_as(client, EMPLOYER)
    page = text(client.get(url(op)))
    assert "Conduite de chariot — demandée par Entreprise E, Entreprise F" in re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", "", page)
    )
    login_as(client, OF_B)
    assert client.get(url(op)).status_code == 404


def test_a_draft_can_be_discarded_and_is_not_someone_elses(app, client, other_client, op):
    save_as(app, op, "objectives", {"text": "A"}, OF_A)
    save_as(app, op, "objectives", {"text": "B"}, REGION_ADMIN)
    login_as(client, EMPLOYER)
    post_text(client, op, "objectives", "C", 2, headers=HTMX)
    draft_id = the_draft(app)
    login_as(other_client, OF_A)
    discard = url(op, f"/objectives/brouillon/{draft_id}/abandon")
    assert other_client.post(discard, headers=HTMX).status_code == 403
    response = client.post(discard, headers=HTMX)
    assert response.status_code == 200 and "reste consultable dans l'historique" in text(response)
    with app.app_context():
        draft = db.session.get(SectionRevision, draft_id)
        assert draft.resolved_at is not None and draft.content == {"text": "C"}
    assert section(app, op, "objectives").content == {"text": "B"}


def _skill_rows(items):
    data = {}
    for index, skill in enumerate(items):
        data[f"skills-items-{index}-id"] = skill["id"]
        data[f"skills-items-{index}-label"] = skill["label"]
    return data


def test_list_sections_merge_additions_and_resolve_a_conflict_per_item(app, client, op):
    login_as(client, EMPLOYER)
    prefilled = section(app, op, "skills").content["items"]
    added = item(label="Autonomie", block_code="", employer_id=None)
    save_as(app, op, "skills", {"items": [*prefilled, added]}, OF_A)
    data = {"base_version": 1, **_skill_rows(prefilled), "skills-items-3-label": "Ponctualité"}
    response = client.post(url(op, "/skills"), data=data, headers=HTMX)
    assert response.status_code == 200 and "fusionnées" in text(response)
    labels = [s["label"] for s in section(app, op, "skills").content["items"]]
    assert "Autonomie" in labels and "Ponctualité" in labels

    current = section(app, op, "skills")
    first = current.content["items"][0]
    changed = [{**first, "label": "Leur libellé"}, *current.content["items"][1:]]
    save_as(app, op, "skills", {"items": changed}, OF_A)
    mine = [{**first, "label": "Mon libellé"}, *current.content["items"][1:]]
    data = {"base_version": current.version, **_skill_rows(mine)}
    response = client.post(url(op, "/skills"), data=data, headers=HTMX)
    assert response.status_code == 409
    body = text(response)
    assert "Mon libellé" in body and "Leur libellé" in body
    assert f'name="choice-{first["id"]}"' in body
    draft_id = the_draft(app)
    resolve = url(op, f"/skills/conflit/{draft_id}")
    data = {"base_version": current.version + 1, f"choice-{first['id']}": "mine"}
    assert client.post(resolve, data=data, headers=HTMX).status_code == 200
    assert section(app, op, "skills").content["items"][0]["label"] == "Mon libellé"


def test_invalid_input_answers_422_with_french_errors_and_saves_nothing(app, client, op):
    login_as(client, EMPLOYER)
    data = {
        "base_version": 1,
        "modules-items-0-title": "Conduite",
        "modules-items-0-hours": "beaucoup",
        "modules-items-0-place": "platform",
    }
    response = client.post(url(op, "/modules"), data=data, headers=HTMX)
    assert response.status_code == 422
    body = text(response)
    assert "Indiquez un nombre entier d'heures." in body
    assert "Un module sur plateau technique indique l'entreprise qui l'accueille." in body
    assert 'value="Conduite"' in body and 'name="base_version" value="1"' in body
    assert section(app, op, "modules").version == 1


def test_add_a_row_keeps_what_was_typed_and_saves_nothing(app, client, op):
    login_as(client, EMPLOYER)
    data = {"base_version": 1, "modules-items-0-title": "Conduite", "add_row": "1"}
    for headers in (HTMX, {}):
        response = client.post(url(op, "/modules"), data=data, headers=headers)
        assert response.status_code == 200
        body = text(response)
        assert 'value="Conduite"' in body and 'name="modules-items-1-title"' in body
    assert section(app, op, "modules").version == 1


def test_csrf_token_is_required(app, client, op):
    login_as(client, EMPLOYER)
    response = client.post(
        url(op, "/objectives"), data={"base_version": 1, "objectives-text": "x"}, csrf=False
    )
    assert response.status_code == 400
    assert section(app, op, "objectives").version == 1


def test_editing_stops_once_the_operation_is_closed(app, client, op):
    # After co-design the sections stay a draft (tests/design/test_drafts_views.py).
    set_status(app, op.id, Status.CLOSED)
    login_as(client, OF_A)
    response = client.get(url(op, "/objectives/modification"), headers=HTMX)
    assert response.status_code == 409
    assert "La co-conception est close pour cette opération." in text(response)
    assert post_text(client, op, "objectives", "x", 1, headers=HTMX).status_code == 409
    assert "Modifier" not in text(client.get(url(op, "/objectives"), headers=HTMX))


# --- Validation and approval ---------------------------------------------------------------


def test_a_validated_section_is_edited_by_the_carrier_and_the_region_only(
    app, client, other_client, op
):
    login_as(client, EMPLOYER)
    assert client.post(url(op, "/skills/validation"), data={"validated": "1"}).status_code == 403
    login_as(other_client, OF_A)
    response = other_client.post(
        url(op, "/skills/validation"), data={"validated": "1"}, headers=HTMX
    )
    assert response.status_code == 200 and "Section validée" in text(response)

    refused = client.get(url(op, "/skills/modification"), headers=HTMX)
    assert refused.status_code == 403
    assert "seuls l'organisme porteur et la Région la modifient" in text(refused)
    assert (
        client.post(url(op, "/skills"), data={"base_version": 1}, headers=HTMX).status_code == 403
    )
    assert section(app, op, "skills").version == 1

    prefilled = section(app, op, "skills").content["items"]
    data = {"base_version": 1, **_skill_rows(prefilled[:1])}
    response = other_client.post(url(op, "/skills"), data=data, headers=HTMX)
    assert response.status_code == 200 and "Validation retirée" in text(response)
    assert not section(app, op, "skills").is_validated


def test_approval_by_the_region_only_refused_with_the_unmet_conditions(
    app, client, other_client, op
):
    login_as(client, OF_A)
    assert client.post(url(op, "/approbation"), headers=HTMX).status_code == 403
    login_as(other_client, REFERENT)
    refused = other_client.post(url(op, "/approbation"), headers=HTMX)
    assert refused.status_code == 422
    body = text(refused)
    assert body.lstrip().startswith('<section id="design-gate"')
    assert "Sections obligatoires à remplir : Objectifs de la formation" in body

    with committed(app):
        design = db.session.scalar(select(Design).where(Design.operation_id == op.id))
        for key, content in complete_contents(op.employer).items():
            target = design.section(key)
            services.save_section(
                target,
                content,
                base_version=target.version,
                by=user_with(OF_A),
                org=design.operation.provider,
                steering=True,
            )
    response = other_client.post(url(op, "/approbation"), data={"comment": "Validé"}, headers=HTMX)
    assert response.status_code == 200 and "Co-conception approuvée par la Région." in text(
        response
    )
    with app.app_context():
        assert load_design(op.id).approved_at is not None

    post_text(client, op, "means", "Un plateau de plus.", 2)
    with app.app_context():
        assert load_design(op.id).approved_at is None


# --- Starting the design, and the operation page ------------------------------------------


@pytest.fixture
def unstarted(app):
    """An operation moved to co-design by hand: its design is not started."""
    with committed(app):
        market = Market()
        operation = market.report()
        operation.status = Status.CO_DESIGN
        return SimpleNamespace(id=operation.id)


def test_the_carrier_starts_the_design(app, client, other_client, unstarted):
    login_as(client, EMPLOYER)
    page = text(client.get(url(unstarted)))
    assert "La co-conception n'a pas commencé" in page and "Ouvrir la co-conception" not in page
    assert client.post(url(unstarted, "/demarrage")).status_code == 403
    assert client.get(url(unstarted, "/objectives")).status_code == 404
    login_as(other_client, OF_A)
    assert "Ouvrir la co-conception" in text(other_client.get(url(unstarted)))
    response = other_client.post(url(unstarted, "/demarrage"))
    assert response.status_code == 303
    with app.app_context():
        assert load_design(unstarted.id) is not None


def test_the_operation_page_links_to_the_design(app, client, op):
    login_as(client, EMPLOYER)
    page = text(client.get(f"/operations/{op.id}"))
    assert 'id="design-card-title"' in page and url(op) in page


# --- Query counts --------------------------------------------------------------------------


def _fill_lists(app, op, count: int) -> None:
    with committed(app):
        design = db.session.scalar(select(Design).where(Design.operation_id == op.id))
        by = user_with(OF_A)
        org = design.operation.provider
        skills = [
            item(label=f"Compétence {i}", block_code="", employer_id=op.employer)
            for i in range(count)
        ]
        modules = [
            item(
                title=f"Module {i}",
                hours=10,
                place="platform" if i % 2 else "centre",
                employer_id=op.employer if i % 2 else None,
                skill_ids=[skills[i]["id"]],
                trainer="",
            )
            for i in range(count)
        ]
        periods = [
            period("centre", f"2027-01-{i + 1:02d}", f"2027-01-{i + 1:02d}", 7, label=f"P{i}")
            for i in range(count)
        ]
        for key, items in (
            (SectionKey.SKILLS, skills),
            (SectionKey.MODULES, modules),
            (SectionKey.RHYTHM, periods),
        ):
            target = design.section(key)
            services.save_section(
                target, {"items": items}, base_version=target.version, by=by, org=org, steering=True
            )


# The co-design page's budget (issue #16): the operation with its participants, the design
# with its sections, the threads with their replies and mentions, each in one query; the
# badges counted from the threads. Pinned, the same as the design's lists grow.
PAGE_QUERIES = {OF_A: 9, EMPLOYER: 9}


@pytest.mark.parametrize("email", [OF_A, EMPLOYER])
def test_the_page_runs_a_fixed_number_of_queries(app, client, op, email):
    login_as(client, email)
    counts = []
    for size in (2, 20):
        _fill_lists(app, op, size)
        client.get(url(op))
        with count_queries(app) as statements:
            response = client.get(url(op))
        assert response.status_code == 200
        assert f"Module {size - 1}" in text(response)
        counts.append(len(statements))
    print(f"\n{email}: co-design page {counts} queries")
    assert counts[0] == counts[1] == PAGE_QUERIES[email], counts


# The section save's budget (issue #16): the fragment reads its own section's threads and
# counts its badge from them; who a row names is joined to it. Pinned, and the same as the
# design's lists, other sections' comments and the section's history grow. The section and
# its design are locked, and read, once each (one more each when the design was read before
# its lock and the operation again after it), and the user comes with the session row.
SAVE_QUERIES = {"sqlite": 18, "postgresql": 17}


def _comment_elsewhere(app, op, n: int) -> None:
    with committed(app):
        design = db.session.scalar(select(Design).where(Design.operation_id == op.id))
        for i in range(n):
            add_comment(
                design.section(SectionKey.MODULES),
                f"Avis {i}",
                by=user_with(OF_A),
                org=design.operation.provider,
            )


def test_a_section_save_runs_a_fixed_number_of_queries(app, client, op):
    login_as(client, OF_A)
    counts = []
    for size in (2, 20):
        _fill_lists(app, op, size)
        _comment_elsewhere(app, op, size)
        version = section(app, op, "objectives").version
        post_text(client, op, "objectives", f"Objectif {size}", version, headers=HTMX)
        with count_queries(app) as statements:
            response = post_text(
                client, op, "objectives", f"Objectif {size} bis", version + 1, headers=HTMX
            )
        assert response.status_code == 200
        assert f"Objectif {size} bis" in text(response)
        counts.append(len(statements))
    with app.app_context():
        dialect = db.engine.dialect.name
    print(f"\n[{dialect}] section save (htmx): {counts} queries")
    assert counts[0] == counts[1] == SAVE_QUERIES[dialect], counts
