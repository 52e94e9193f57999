"""Section content between the edit forms and the stored JSON: validation in French, blank
and deleted rows, stable ids, and items rebuilt identical when nobody touched them (so the
merge sees no change in them)."""

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from portal.design import content
from portal.design.forms import section_form
from portal.design.merge import merge_text
from portal.design.models import SectionKey

SKILL_ID = "a" * 32
OTHER_ID = "b" * 32
EMPLOYERS = [(7, "Entreprise E"), (8, "Entreprise F")]


@pytest.fixture(autouse=True)
def _clean_database():
    """No database here: overrides the suite-wide cleaning for this module."""
    yield


def posted(app, key: SectionKey, data: dict, skills=()):
    """The section's form bound to ``data`` (field names without the key's prefix)."""
    prefix = key.value
    formdata = MultiDict()
    for name, value in data.items():
        for one in value if isinstance(value, list) else [value]:
            formdata.add(f"{prefix}-{name}", one)
    with app.test_request_context(method="POST", data=formdata):
        form = section_form(key, meta={"csrf": False})
        if key.is_list:
            form.set_choices(EMPLOYERS, list(skills))
        valid = form.validate()
        return form, valid


# --- Text ---------------------------------------------------------------------------------


def test_text_content_normalises_line_endings_and_trailing_blanks():
    assert content.text_content("un\r\ndeux\rtrois  \n\n") == {"text": "un\ndeux\ntrois"}
    assert content.text_content(None) == {"text": ""}


def test_text_longer_than_the_limit_is_refused_in_french(app):
    form, valid = posted(app, SectionKey.OBJECTIVES, {"text": "x" * 20001})
    assert not valid
    assert form.text.errors == ["20000 caractères au plus."]


# --- Skills -------------------------------------------------------------------------------


def test_skills_rows_become_items_keeping_ids_and_dropping_blank_and_deleted_rows(app):
    form, valid = posted(
        app,
        SectionKey.SKILLS,
        {
            "items-0-id": SKILL_ID,
            "items-0-label": "  Conduire un chariot  ",
            "items-0-block_code": "rncp38413bc01",
            "items-0-employer_id": "7",
            "items-1-id": OTHER_ID,
            "items-1-label": "",
            "items-1-delete": "y",
            "items-2-label": "Nouvelle compétence",
            "items-3-label": "",
        },
    )
    assert valid, form.errors
    items = content.items_content(SectionKey.SKILLS, form.rows())["items"]
    assert items[0] == {
        "id": SKILL_ID,
        "label": "Conduire un chariot",
        "block_code": "RNCP38413BC01",
        "employer_id": 7,
    }
    assert len(items) == 2 and items[1]["label"] == "Nouvelle compétence"
    assert len(items[1]["id"]) == 32 and items[1]["employer_id"] is None


def test_skill_without_label_and_unknown_employer_are_refused_in_french(app):
    form, valid = posted(
        app,
        SectionKey.SKILLS,
        {"items-0-id": SKILL_ID, "items-0-label": " ", "items-0-employer_id": "99"},
    )
    assert not valid
    entry = form.items.entries[0].form
    assert entry.label.errors == ["Indiquez l'intitulé de la compétence."]
    assert entry.employer_id.errors == ["Choisissez un employeur participant à l'opération."]


def test_tampered_or_duplicated_ids_get_new_ones():
    rows = [
        {"id": SKILL_ID, "label": "Un"},
        {"id": SKILL_ID, "label": "Deux"},
        {"id": "../../etc", "label": "Trois"},
    ]
    ids = [i["id"] for i in content.items_content(SectionKey.SKILLS, rows)["items"]]
    assert ids[0] == SKILL_ID and len(set(ids)) == 3
    assert all(content.ITEM_ID.match(i) for i in ids)


def test_an_untouched_item_is_rebuilt_identical(app):
    stored = {
        "id": SKILL_ID,
        "title": "Conduite",
        "hours": 35,
        "place": "platform",
        "employer_id": 7,
        "skill_ids": [OTHER_ID],
        "trainer": "Thomas",
    }
    rows = content.form_rows(SectionKey.MODULES, {"items": [stored]})
    data = {f"items-0-{name}": value for name, value in rows[0].items() if value is not None}
    form, valid = posted(app, SectionKey.MODULES, data, skills=[(OTHER_ID, "Conduire")])
    assert valid, form.errors
    assert content.items_content(SectionKey.MODULES, form.rows()) == {"items": [stored]}


# --- Modules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": ""}, "title", "Indiquez l'intitulé du module."),
        ({"hours": "2001"}, "hours", "Entre 0 et 2 000 heures."),
        ({"hours": "-1"}, "hours", "Entre 0 et 2 000 heures."),
        ({"hours": "beaucoup"}, "hours", "Indiquez un nombre entier d'heures."),
        ({"place": "lune"}, "place", "Choisissez le lieu du module."),
        (
            {"place": "platform"},
            "employer_id",
            "Un module sur plateau technique indique l'entreprise qui l'accueille.",
        ),
    ],
    ids=["title", "too-many-hours", "negative-hours", "not-a-number", "place", "platform"],
)
def test_invalid_module_is_refused_in_french(app, fields, field, message):
    data = {"title": "Conduite", "hours": "35", "place": "centre", **fields}
    form, valid = posted(app, SectionKey.MODULES, {f"items-0-{k}": v for k, v in data.items()})
    assert not valid
    assert form.items.entries[0].form[field].errors == [message]


def test_module_keeps_only_known_skills_and_drops_the_employer_off_platform(app):
    data = {
        "items-0-title": "Conduite",
        "items-0-hours": "35",
        "items-0-place": "centre",
        "items-0-employer_id": "7",
        "items-0-skill_ids": [SKILL_ID, "inconnue"],
    }
    form, valid = posted(app, SectionKey.MODULES, data, skills=[(SKILL_ID, "Conduire")])
    assert valid, form.errors
    [module] = content.items_content(SectionKey.MODULES, form.rows())["items"]
    assert module["skill_ids"] == [SKILL_ID] and module["employer_id"] is None


# --- Rhythm -------------------------------------------------------------------------------


def test_period_dates_round_trip_as_iso_strings(app):
    data = {
        "items-0-kind": "platform",
        "items-0-start": "2027-04-26",
        "items-0-end": "2027-04-30",
        "items-0-hours": "35",
        "items-0-employer_id": "8",
        "items-0-label": "Quai",
    }
    form, valid = posted(app, SectionKey.RHYTHM, data)
    assert valid, form.errors
    [item] = content.items_content(SectionKey.RHYTHM, form.rows())["items"]
    assert item["start"] == "2027-04-26" and item["end"] == "2027-04-30"
    assert item["employer_id"] == 8
    rows = content.form_rows(SectionKey.RHYTHM, {"items": [item]})
    assert rows[0]["start"] == date(2027, 4, 26) and rows[0]["employer_id"] == "8"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"end": "2027-04-01"}, "end", "La fin de la période précède son début."),
        ({"start": ""}, "start", "Indiquez la date de début."),
        ({"start": "31/02/2027"}, "start", "Date attendue au format JJ/MM/AAAA."),
        ({"hours": "3000"}, "hours", "Entre 0 et 2 000 heures."),
        ({"kind": "vacances"}, "kind", "Choisissez le type de période."),
        (
            {"kind": "platform"},
            "employer_id",
            "Une période sur plateau technique indique l'entreprise qui l'accueille.",
        ),
    ],
    ids=["end-before-start", "no-start", "bad-date", "hours", "kind", "platform"],
)
def test_invalid_period_is_refused_in_french(app, fields, field, message):
    data = {"kind": "centre", "start": "2027-04-05", "end": "2027-04-30", "hours": "70", **fields}
    form, valid = posted(app, SectionKey.RHYTHM, {f"items-0-{k}": v for k, v in data.items()})
    assert not valid
    assert form.items.entries[0].form[field].errors == [message]


# --- Reading content as text -------------------------------------------------------------


def test_items_read_as_french_sentences():
    names = {7: "Entreprise E"}
    skills = {SKILL_ID: "Conduire"}
    module = {
        "title": "Conduite",
        "hours": 35,
        "place": "platform",
        "employer_id": 7,
        "skill_ids": [SKILL_ID],
        "trainer": "Thomas",
    }
    assert content.describe_item(SectionKey.MODULES, module, names, skills) == (
        "Conduite — 35 h — Plateau technique de l'entreprise (Entreprise E) — "
        "compétences : Conduire — assuré par Thomas"
    )
    period = {"kind": "centre", "start": "2027-01-04", "end": "2027-01-29", "hours": 140}
    assert content.describe_item(SectionKey.RHYTHM, period, names, skills) == (
        "Centre de formation — du 04/01/2027 au 29/01/2027 — 140 h"
    )
    assert content.describe_item(SectionKey.SKILLS, None, names, skills) == "(supprimé)"
    assert content.as_lines(SectionKey.OBJECTIVES, {"text": "a\nb"}, names, skills) == ["a", "b"]


# --- Skills several employers asked for (issue #15) -----------------------------------------


def test_a_skill_asked_by_several_employers_keeps_them_when_edited(app):
    stored = {
        "id": SKILL_ID,
        "label": "Conduite de chariot",
        "block_code": "",
        "employer_id": 7,
        "also_asked_by": [8],
    }
    rows = content.form_rows(SectionKey.SKILLS, {"items": [stored]})
    assert rows[0]["also_asked_by"] == "8"
    data = {f"items-0-{name}": value for name, value in rows[0].items() if value is not None}
    form, valid = posted(app, SectionKey.SKILLS, data)
    assert valid, form.errors
    assert content.items_content(SectionKey.SKILLS, form.rows()) == {"items": [stored]}
    # An employer no longer taking part (9) is dropped; the one named first is not repeated.
    data["items-0-also_asked_by"] = "7,8,9"
    form, valid = posted(app, SectionKey.SKILLS, data)
    assert content.items_content(SectionKey.SKILLS, form.rows())["items"][0] == stored
    assert content.skill_askers(stored) == [7, 8]
    assert content.skill_askers({"employer_id": None}) == []
    names = {7: "Entreprise E", 8: "Entreprise F"}
    assert content.describe_item(SectionKey.SKILLS, stored, names, {}) == (
        "Conduite de chariot — demandée par Entreprise E, Entreprise F"
    )


# --- Conflict resolution ------------------------------------------------------------------


def test_a_hand_merged_text_is_chosen_when_no_option_was_sent():
    """Issue #15: typing in the hand-merged text chooses it in the page (static/js/app.js);
    without the radio posted, the server reads a non-empty text the same way."""
    merge = merge_text("A", "B", "C")
    assert content.resolution(SectionKey.OBJECTIVES, merge, {"custom_text": "B et C"}) == {
        "text": "B et C"
    }
    chosen = {"choice": "mine", "custom_text": "B et C"}
    assert content.resolution(SectionKey.OBJECTIVES, merge, chosen) == {"text": "B"}
    with pytest.raises(ValueError, match="Choisissez la version à garder."):
        content.resolution(SectionKey.OBJECTIVES, merge, {"custom_text": "  "})
