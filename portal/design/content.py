"""Section content, between the edit forms and the JSON stored in ``DesignSection.content``.

Text sections hold ``{"text": str}``; list sections hold ``{"items": [...]}`` whose items
carry a stable ``id`` (the merge matches items on it) and these fields:

- skills: ``label``, ``block_code``, ``employer_id`` (who asked for it), ``also_asked_by``
  (the other employers whose needs said the same skill: ``portal/design/start.py``);
- modules: ``title``, ``hours``, ``place`` (centre, platform, remote), ``employer_id``,
  ``skill_ids``, ``trainer``;
- rhythm: ``kind`` (centre, immersion, platform), ``start``, ``end`` (ISO dates), ``hours``,
  ``employer_id``, ``label``.

An item is always rebuilt with the same keys and types, so that an item nobody touched
compares equal to its stored version and the three-way merge sees no change in it.
"""

import re
from datetime import date

from flask_babel import gettext as _

from portal.core.text import clean_text
from portal.design.merge import (
    ListMerge,
    TextMerge,
    merge_items,
    merge_text,
    normalise_newlines,
    resolve_items,
    resolve_text,
)
from portal.design.models import SectionKey
from portal.design.rhythm import MODULE_PLACES, PERIOD_KINDS
from portal.design.services import new_id

ITEM_ID = re.compile(r"^[0-9a-f]{32}$")
TEXT_MAX = 20000


def _text(value) -> str:
    return (value or "").strip()


def _int_or_none(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _iso(value) -> str:
    return value.isoformat() if isinstance(value, date) else _text(value)


def text_content(text: str | None) -> dict:
    """A text section's content: line endings normalised, trailing blanks dropped."""
    return {"text": normalise_newlines(text or "").rstrip()}


def _ids(value) -> list[int]:
    """A list of ids from a list or from the comma-separated text of a hidden field."""
    if isinstance(value, str):
        value = value.split(",")
    ids = (_int_or_none(v) for v in (value or []))
    return sorted({i for i in ids if i is not None})


def skill_item(item_id: str, data: dict) -> dict:
    employer_id = _int_or_none(data.get("employer_id"))
    item = {
        "id": item_id,
        "label": _text(data.get("label")),
        "block_code": _text(data.get("block_code")).upper(),
        "employer_id": employer_id,
    }
    # Only when some: a skill asked by one employer keeps the keys it always had, so that
    # saving it does not read as a change to the merge.
    also = [i for i in _ids(data.get("also_asked_by")) if i != employer_id]
    if also:
        item["also_asked_by"] = also
    return item


def skill_askers(item: dict) -> list[int]:
    """Every employer that asked for a skill: the one it names, then the others whose needs
    said the same thing (items saved before ``also_asked_by`` existed have none)."""
    first = [item["employer_id"]] if item.get("employer_id") else []
    return first + [i for i in item.get("also_asked_by") or [] if i not in first]


def module_item(item_id: str, data: dict) -> dict:
    place = data.get("place") or "centre"
    return {
        "id": item_id,
        "title": _text(data.get("title")),
        "hours": _int_or_none(data.get("hours")) or 0,
        "place": place,
        # Only a module on a company platform says which company.
        "employer_id": _int_or_none(data.get("employer_id")) if place == "platform" else None,
        "skill_ids": [str(s) for s in (data.get("skill_ids") or [])],
        "trainer": _text(data.get("trainer")),
    }


def period_item(item_id: str, data: dict) -> dict:
    kind = data.get("kind") or "centre"
    return {
        "id": item_id,
        "kind": kind,
        "start": _iso(data.get("start")),
        "end": _iso(data.get("end")),
        "hours": _int_or_none(data.get("hours")) or 0,
        "employer_id": _int_or_none(data.get("employer_id")) if kind != "centre" else None,
        "label": _text(data.get("label")),
    }


ITEM_BUILDERS = {
    SectionKey.SKILLS: skill_item,
    SectionKey.MODULES: module_item,
    SectionKey.RHYTHM: period_item,
}


def items_content(key: SectionKey, rows: list[dict]) -> dict:
    """A list section's content from the form's rows (each a dict of field data).

    Rows marked ``delete`` and blank new rows are left out; a row keeps its posted id when
    it is well formed and not already used, otherwise it is a new item with a new id (a
    tampered or duplicated id must not make the merge match the wrong item).
    """
    build = ITEM_BUILDERS[key]
    items, seen = [], set()
    for row in rows:
        if row.get("delete") or row.get("blank"):
            continue
        item_id = row.get("id") or ""
        if not ITEM_ID.match(item_id) or item_id in seen:
            item_id = new_id()
        seen.add(item_id)
        items.append(build(item_id, row))
    return {"items": items}


def form_rows(key: SectionKey, content: dict) -> list[dict]:
    """The stored items as form data (dates as ``date`` objects for the date fields)."""
    rows = []
    for item in content.get("items", []):
        row = dict(item)
        if key == SectionKey.RHYTHM:
            for name in ("start", "end"):
                try:
                    row[name] = date.fromisoformat(item.get(name) or "")
                except ValueError:
                    row[name] = None
        if row.get("employer_id") is not None:
            row["employer_id"] = str(row["employer_id"])
        if key == SectionKey.SKILLS:
            row["also_asked_by"] = ",".join(str(i) for i in item.get("also_asked_by") or [])
        rows.append(row)
    return rows


# --- Conflicts -----------------------------------------------------------------------------


def merge_draft(key: SectionKey, base: dict, draft: dict, theirs: dict) -> TextMerge | ListMerge:
    """Merge a kept draft with the saved content; ``base``: what the draft started from."""
    if key.is_list:
        return merge_items(base.get("items", []), draft.get("items", []), theirs.get("items", []))
    return merge_text(base.get("text", ""), draft.get("text", ""), theirs.get("text", ""))


def resolution(key: SectionKey, merge: TextMerge | ListMerge, form) -> dict:
    """The content the user settled on in the conflict view (``form``: the posted fields).

    Lists: ``choice-<item id>`` is mine, theirs or drop for each conflicting item. Text:
    ``choice`` is mine or theirs (for the conflicting passages), or custom (``custom_text``);
    no choice with a hand-merged text is that text (typing in it chooses it in the page).
    Raises ValueError with a French message when the choice is missing or too long.
    """
    if key.is_list:
        choices = {c.id: form.get(f"choice-{c.id}", "") for c in merge.conflicts}
        try:
            return {"items": resolve_items(merge, choices)}
        except ValueError:
            raise ValueError(_("Choisissez une version pour chaque élément en conflit.")) from None
    choice = form.get("choice", "")
    if not choice and form.get("custom_text", "").strip():
        choice = "custom"
    if choice == "custom":
        custom = clean_text(form.get("custom_text", ""), multiline=True)
        if len(custom) > TEXT_MAX:
            raise ValueError(_("%(max)s caractères au plus.", max=TEXT_MAX))
        return text_content(custom)
    if choice in ("mine", "theirs"):
        return text_content(resolve_text(merge, choice))
    raise ValueError(_("Choisissez la version à garder."))


# --- Reading content as text (conflict view, history, export) -----------------------------


def _date_fr(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return value or "?"


def describe_item(key: SectionKey, item: dict | None, names: dict, skills: dict) -> str:
    """One item in a French sentence; ``names`` maps employer ids to names, ``skills`` skill
    ids to labels. None (an item absent on one side) reads as « (supprimé) »."""
    if item is None:
        return _("(supprimé)")
    employer = names.get(item.get("employer_id"), "")
    if key == SectionKey.SKILLS:
        parts = [item.get("label", "")]
        if item.get("block_code"):
            parts.append(_("bloc %(code)s", code=item["block_code"]))
        askers = [names[i] for i in skill_askers(item) if i in names]
        if askers:
            parts.append(_("demandée par %(org)s", org=", ".join(askers)))
        return " — ".join(parts)
    if key == SectionKey.MODULES:
        place = str(MODULE_PLACES.get(item.get("place"), item.get("place", "")))
        if employer:
            place = f"{place} ({employer})"
        parts = [item.get("title", ""), _("%(h)s h", h=item.get("hours", 0)), place]
        labels = [skills[s] for s in item.get("skill_ids", []) if s in skills]
        if labels:
            parts.append(_("compétences : %(s)s", s=", ".join(labels)))
        if item.get("trainer"):
            parts.append(_("assuré par %(t)s", t=item["trainer"]))
        return " — ".join(parts)
    kind = str(PERIOD_KINDS.get(item.get("kind"), item.get("kind", "")))
    if employer:
        kind = f"{kind} ({employer})"
    parts = [
        kind,
        _(
            "du %(a)s au %(b)s",
            a=_date_fr(item.get("start", "")),
            b=_date_fr(item.get("end", "")),
        ),
        _("%(h)s h", h=item.get("hours", 0)),
    ]
    if item.get("label"):
        parts.append(item["label"])
    return " — ".join(parts)


def as_lines(key: SectionKey, content: dict, names: dict, skills: dict) -> list[str]:
    """A section's content as lines of French text: its text, or one line per item."""
    if not key.is_list:
        return (content.get("text") or "").split("\n") if content.get("text") else []
    return [describe_item(key, item, names, skills) for item in content.get("items", [])]


def skill_labels(skills_content: dict) -> dict[str, str]:
    """Skill id -> label, for the modules that refer to skills."""
    return {item["id"]: item.get("label", "") for item in skills_content.get("items", [])}
