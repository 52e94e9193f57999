"""History of a design section and restoring a revision: the diffs (text by lines and
words, lists item by item), the page and its htmx fragment, restore as a new revision
under the editing rule, outsiders 404, and a query count flat with the revisions."""

import re

import pytest
from sqlalchemy import func, select

from portal.design.diffs import Chunk, ItemFormatter, items_diff, text_diff
from portal.design.models import SectionKey, SectionRevision
from portal.design.services import new_id, save_section, set_validated
from portal.extensions import db
from portal.operations.models import Status
from tests.design.factories import base_url, save_as, section_of
from tests.operations.factories import EMPLOYER, EMPLOYER2, OF_A, OF_B, set_status
from tests.support import (
    HTMX,
    committed,
    count_queries,
    flashes,
    login_as,
    org_named,
    text,
    user_with,
)


def history_url(operation_id, key="objectives") -> str:
    return f"{base_url(operation_id)}/{key}/historique"


def revision_id(app, operation_id, version, key="objectives") -> int:
    with app.app_context():
        section = section_of(operation_id, key)
        return db.session.scalar(
            select(SectionRevision.id).where(
                SectionRevision.section_id == section.id, SectionRevision.version == version
            )
        )


# --- Diffs -------------------------------------------------------------------------------


def test_text_diff_shows_the_changed_word_only():
    chunks = text_diff("Former des agents\nde propreté", "Former des agents\nde nettoyage")
    assert chunks == [
        Chunk("same", "Former des agents\nde "),
        Chunk("removed", "propreté"),
        Chunk("added", "nettoyage"),
    ]


def test_text_diff_adds_and_removes_whole_lines():
    chunks = text_diff("Un\nDeux\nTrois", "Un\nTrois\nQuatre")
    assert Chunk("removed", "Deux\n") in chunks
    assert [c for c in chunks if c.kind == "added"] == [Chunk("added", "\nQuatre")]
    rebuilt_new = "".join(c.text for c in chunks if c.kind != "removed")
    rebuilt_old = "".join(c.text for c in chunks if c.kind != "added")
    assert (rebuilt_old, rebuilt_new) == ("Un\nDeux\nTrois", "Un\nTrois\nQuatre")
    assert text_diff("", "") == []
    assert text_diff("", "Nouveau") == [Chunk("added", "Nouveau")]


def test_items_diff_lists_added_removed_and_changed_fields(ctx):
    formatter = ItemFormatter(SectionKey.RHYTHM, {7: "Entreprise E"})
    old = [
        {"id": "a", "kind": "centre", "start": "2025-09-01", "end": "2025-09-30", "hours": 140},
        {"id": "b", "kind": "immersion", "start": "2025-10-01", "end": "2025-10-10", "hours": 35},
    ]
    new = [
        {"id": "b", "kind": "platform", "start": "2025-10-01", "end": "2025-10-10", "hours": 35,
         "employer_id": 7},
        {"id": "c", "kind": "centre", "start": "2025-11-03", "end": "2025-11-28", "hours": 120},
    ]  # fmt: skip
    diff = items_diff(old, new, formatter)
    assert [(c.kind, c.name) for c in diff.changes] == [
        ("changed", "Plateau technique de l'entreprise (1 octobre 2025 – 10 octobre 2025)"),
        ("added", "Centre de formation (3 novembre 2025 – 28 novembre 2025)"),
        ("removed", "Centre de formation (1 septembre 2025 – 30 septembre 2025)"),
    ]
    changed = {f.label: (f.old, f.new) for f in diff.changes[0].fields}
    assert changed == {
        "Type de période": ("Immersion en entreprise", "Plateau technique de l'entreprise"),
        "Entreprise": ("", "Entreprise E"),
    }
    added = {f.label: f.new for f in diff.changes[1].fields}
    assert added["Heures"] == "120" and added["Du"] == "3 novembre 2025"
    assert not diff.reordered
    assert items_diff(old, list(reversed(old)), formatter).reordered
    assert items_diff(old, old, formatter).empty


# --- The history page --------------------------------------------------------------------


def test_history_lists_revisions_with_who_when_kind_and_an_accessible_diff(app, client, design_op):
    save_as(app, design_op, {"text": "Former des agents de propreté"})
    save_as(app, design_op, {"text": "Former des agents de nettoyage"}, email=EMPLOYER)
    login_as(client, EMPLOYER)
    response = client.get(history_url(design_op))
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Historique : Objectifs de la formation</h1>" in page
    for label in ("Version 3 — saisie", "Version 2 — saisie", "Version 1 — pré-remplissage"):
        assert label in page
    newest = page.split('class="timeline__item"')[1]
    assert "Camille Martin (Entreprise E)" in newest
    assert re.search(
        r"<time datetime=\"\d{4}-\d\d-\d\dT[\d:]+Z\">\d{1,2} \w+ \d{4} à \d\d:\d\d</time>", newest
    )
    assert '<del><span class="visually-hidden">supprimé : </span>propreté</del>' in newest
    assert '<ins><span class="visually-hidden">ajouté : </span>nettoyage</ins>' in newest
    assert "Par rapport à la version 2" in newest
    assert "Restaurer la version 2" in page and "Restaurer la version 3" not in page


def test_history_names_merges_and_conflict_drafts(app, client, design_op):
    save_as(app, design_op, {"text": "Ligne 1\nLigne 2\nLigne 3"})  # version 2
    save_as(app, design_op, {"text": "Ligne 1 bis\nLigne 2\nLigne 3"}, base=2)  # version 3
    assert save_as(app, design_op, {"text": "Ligne 1\nLigne 2\nLigne 3 ter"}, base=2) == "merged"
    assert save_as(app, design_op, {"text": "Autre\nLigne 2\nLigne 3"}, base=2) == "conflict"
    login_as(client, OF_A)
    page = text(client.get(history_url(design_op)))
    assert "Version 4 — fusion" in page
    assert "Brouillon non appliqué (écrit depuis la version 2) — brouillon en conflit" in page
    draft = page.split("Brouillon non appliqué", 1)[1].split("</li>", 1)[0]
    assert '<ins><span class="visually-hidden">ajouté : </span>Autre</ins>' in draft
    assert "Restaurer la version" not in draft  # a draft was never applied


def test_list_section_history_shows_items(app, client, design_op):
    skill = {
        "id": new_id(),
        "label": "Utiliser une autolaveuse",
        "block_code": "",
        "employer_id": None,
    }
    save_as(app, design_op, {"items": [skill]}, key="skills")
    with app.app_context():
        employer_id = org_named("Entreprise E").id
    changed = dict(skill, block_code="BC02", employer_id=employer_id)
    save_as(app, design_op, {"items": [changed]}, key="skills")
    login_as(client, OF_A)
    page = text(client.get(history_url(design_op, "skills")))
    newest, older = page.split('class="timeline__item"')[1:3]
    assert "Modifié</span> Utiliser une autolaveuse" in newest
    assert "Bloc de compétences :" in newest and "ajouté : </span>BC02</ins>" in newest
    assert "Demandée par :" in newest and "ajouté : </span>Entreprise E</ins>" in newest
    assert "Ajouté</span>" in older and "Utiliser une autolaveuse</ins>" in older


def test_history_htmx_answers_the_fragment(app, client, design_op):
    login_as(client, OF_A)
    response = client.get(history_url(design_op), headers=HTMX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    page = text(response)
    assert "<html" not in page
    assert (
        '<div id="history-objectives" class="history" hx-target="this" hx-swap="outerHTML">' in page
    )


def save_many(app, operation_id, n: int, start: int = 0) -> None:
    with committed(app):
        section = section_of(operation_id)
        by, org = user_with(OF_A), org_named("Organisme A")
        for i in range(start, start + n):
            content = {"text": f"Texte {i}\nsur deux lignes"}
            save_section(
                section, content, base_version=section.version, by=by, org=org, steering=True
            )


def test_history_pages_and_its_queries_do_not_grow_with_revisions(app, client, design_op):
    """20 revisions a page; each is compared with the one before, read in one more query
    when it falls on the next page (so from 21 revisions on, whatever their number)."""
    save_many(app, design_op, 24)
    login_as(client, OF_A)
    client.get(history_url(design_op))
    with count_queries(app) as small:
        client.get(history_url(design_op))
    save_many(app, design_op, 100, start=24)
    with count_queries(app) as large:
        page = text(client.get(history_url(design_op)))
    assert len(small) == len(large)
    assert "Page 1 sur 7" in page and "Version 125 — saisie" in page
    last = text(client.get(history_url(design_op) + "?page=7"))
    assert "Version 1 — pré-remplissage" in last and "Par rapport à une section vide" in last


# --- Restoring ---------------------------------------------------------------------------


def restore(client, operation_id, rev_id, key="objectives", htmx=True):
    url = f"{history_url(operation_id, key)}/{rev_id}/restauration"
    return client.post(url, headers=HTMX if htmx else {})


def test_restoring_creates_a_new_revision(app, client, design_op):
    save_as(app, design_op, {"text": "Premier texte"})
    save_as(app, design_op, {"text": "Second texte"})
    login_as(client, EMPLOYER)
    response = restore(client, design_op, revision_id(app, design_op, 2))
    assert response.status_code == 200
    page = text(response)
    assert "La version 2 est restaurée : elle devient la version 4." in page
    assert "Version 4 — restauration" in page
    with app.app_context():
        section = section_of(design_op)
        assert (section.version, section.content) == (4, {"text": "Premier texte"})
        assert section.updated_by.email == EMPLOYER
        revisions = db.session.scalar(
            select(func.count()).where(SectionRevision.section_id == section.id)
        )
        assert revisions == 4  # nothing rewritten: one more


def test_restoring_without_js_redirects_to_the_history(app, client, design_op):
    save_as(app, design_op, {"text": "Texte"})
    login_as(client, OF_A)
    response = restore(client, design_op, revision_id(app, design_op, 1), htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(history_url(design_op))
    assert ("success", "La version 1 est restaurée : elle devient la version 3.") in flashes(client)


def test_a_validated_section_is_restored_only_by_the_carrier_or_the_region(
    app, client, other_client, design_op
):
    save_as(app, design_op, {"text": "Texte validé"})
    with committed(app):
        set_validated(section_of(design_op), True, by=user_with(OF_A), org=org_named("Organisme A"))
    first = revision_id(app, design_op, 1)
    login_as(client, EMPLOYER)
    page = text(client.get(history_url(design_op)))
    assert "Restaurer la version" not in page
    response = restore(client, design_op, first)
    assert response.status_code == 403
    assert "Section validée : seuls l'organisme porteur et la Région la modifient." in text(
        response
    )
    with app.app_context():
        assert section_of(design_op).version == 2
    login_as(other_client, OF_A)
    assert restore(other_client, design_op, first).status_code == 200
    with app.app_context():
        section = section_of(design_op)
        assert section.version == 3 and not section.is_validated  # a change un-validates


def test_restoring_is_refused_once_the_operation_is_closed(app, client, design_op):
    save_as(app, design_op, {"text": "Texte"})
    set_status(app, design_op, Status.CANCELLED)
    login_as(client, OF_A)
    assert "Restaurer la version" not in text(client.get(history_url(design_op)))
    response = restore(client, design_op, revision_id(app, design_op, 1))
    assert response.status_code == 409
    assert "La co-conception est close pour cette opération." in text(response)


def test_a_revision_of_another_section_or_a_draft_is_not_restored(app, client, design_op):
    other = revision_id(app, design_op, 1, key="public")
    login_as(client, OF_A)
    assert restore(client, design_op, other).status_code == 404
    assert restore(client, design_op, 999999).status_code == 404
    save_as(app, design_op, {"text": "A\nB"})
    save_as(app, design_op, {"text": "A2\nB"}, base=2)
    assert save_as(app, design_op, {"text": "A3\nB"}, base=2) == "conflict"
    with app.app_context():
        draft = db.session.scalar(select(SectionRevision.id).where(SectionRevision.kind == "draft"))
    response = restore(client, design_op, draft)
    assert response.status_code == 409
    assert "Cette révision ne peut pas être restaurée." in text(response)


@pytest.mark.parametrize("outsider", [OF_B, EMPLOYER2])
def test_outsiders_get_404_on_history_and_restore(app, client, design_op, outsider):
    first = revision_id(app, design_op, 1)
    login_as(client, outsider)
    assert client.get(history_url(design_op)).status_code == 404
    assert restore(client, design_op, first).status_code == 404
    with app.app_context():
        assert section_of(design_op).version == 1


def test_restore_refuses_a_missing_csrf_token(app, client, design_op):
    save_as(app, design_op, {"text": "Texte"})
    login_as(client, OF_A)
    url = f"{history_url(design_op)}/{revision_id(app, design_op, 1)}/restauration"
    assert client.post(url, csrf=False).status_code == 400
    with app.app_context():
        assert section_of(design_op).version == 2


def test_every_section_of_the_design_page_links_its_history(client, design_op):
    # Issue 15: like the convention's articles, each co-design section has its « Historique ».
    login_as(client, EMPLOYER)
    page = text(client.get(base_url(design_op)))
    keys = [key.value for key in SectionKey if key.is_design]
    assert len(keys) >= 9
    for key in keys:
        assert f'href="{history_url(design_op, key)}"' in page, key
        assert client.get(history_url(design_op, key)).status_code == 200
