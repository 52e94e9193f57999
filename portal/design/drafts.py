"""The design after co-design: the version in force and the draft of the next amendment.

The DEFI sheet asks the organisme to keep contents, pedagogy and the alternance rhythm up
to date, and the convention says any change goes through an amendment (avenant). So the
design stays editable by its editors after co-design, with the same machinery (versions,
merge, history), and what the sections say becomes a draft once the Région has validated
a convention version: ``Design.in_force`` keeps what that version froze, section key ->
content, and the running operation (immersions generated from the rhythm, the skills a
tutor rates) reads it, until the Région validates an amendment that carries the draft
(``portal/conventions/amendments.py`` calls ``put_in_force``).

Before a first validation there is nothing in force: the sections are the draft of the
convention itself, and everyone reads them.
"""

from dataclasses import dataclass
from datetime import datetime

from portal.design.diffs import Chunk, ItemFormatter, ItemsDiff, items_diff, text_diff
from portal.design.models import Design, DesignSection, SectionKey


def is_amending(design: Design | None) -> bool:
    """A convention version is in force: the sections are the draft of an amendment."""
    return design is not None and design.in_force is not None


def _empty(key: SectionKey) -> dict:
    return {"items": []} if key.is_list else {"text": ""}


def in_force_content(design: Design, key: SectionKey) -> dict:
    """What the convention in force says of section ``key`` (the section itself when no
    version is in force yet)."""
    if design.in_force is not None and key.value in design.in_force:
        return design.in_force[key.value]
    return design.section(key).content


def is_changed(design: Design, section: DesignSection) -> bool:
    """The section's draft differs from the version in force."""
    if not is_amending(design) or not section.key.is_design:
        return False
    return design.in_force.get(section.key.value, _empty(section.key)) != section.content


def changed_sections(design: Design | None) -> list[DesignSection]:
    """The design's sections whose draft differs from the version in force."""
    if not is_amending(design):
        return []
    return [section for section in design.sections if is_changed(design, section)]


def put_in_force(
    design: Design, contents: dict[str, dict], *, number: int, signed_at: datetime | None
) -> None:
    """``contents`` (section key -> content, from a validated version's frozen text) is in
    force from now on. The caller holds the design's lock (after the version's)."""
    design.in_force = {
        key.value: contents.get(key.value, _empty(key)) for key in SectionKey.design_keys()
    }
    design.in_force_number = number
    design.in_force_signed_at = signed_at


@dataclass
class DraftChange:
    """How a section's draft differs from the version in force, in the shape the history
    diff template reads (``design/_history_diff.html``)."""

    chunks: list[Chunk] | None = None
    items: ItemsDiff | None = None
    compared_to: int = 1


def draft_change(
    design: Design, section: DesignSection, names: dict, skills: dict
) -> DraftChange | None:
    """What the draft of ``section`` changes, or None when it changes nothing.

    ``names``: organisation id -> name; ``skills``: skill id -> label (the draft's and the
    version in force's, so that a removed skill still reads by its name)."""
    if not is_changed(design, section):
        return None
    before = in_force_content(design, section.key)
    if section.key.is_list:
        old_skills = {
            i.get("id"): i.get("label", "")
            for i in in_force_content(design, SectionKey.SKILLS).get("items", [])
        }
        formatter = ItemFormatter(section.key, names, {**old_skills, **skills})
        return DraftChange(
            items=items_diff(before.get("items", []), section.content.get("items", []), formatter)
        )
    return DraftChange(
        chunks=text_diff(before.get("text") or "", section.content.get("text") or "")
    )
