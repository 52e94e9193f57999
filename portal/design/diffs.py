"""What changed between two states of a section, for the history page.

Text is compared line by line, then word by word inside the lines that changed, so a
one-word edit in a long paragraph shows as that word. List sections (skills, modules,
periods) are compared item by item on their stable ids: added, removed, and for a
changed item the fields that differ. Items are shown with ``ItemFormatter``, which the
DOCX export uses too, so that both speak of an item in the same words.
"""

import difflib
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from portal.design.models import SectionKey
from portal.design.rhythm import MODULE_PLACES, PERIOD_KINDS

# A word, a run of spaces, or a line break: joined back, the tokens rebuild the text.
_TOKENS = re.compile(r"\n|[^\S\n]+|[^\s]+")
# Lines with their LF (only LF: a form feed or U+2028 pasted in a line stays in it).
_LINES = re.compile(r"[^\n]*\n|[^\n]+")

FIELD_LABELS = {
    SectionKey.SKILLS: {
        "label": _l("Intitulé"),
        "block_code": _l("Bloc de compétences"),
        "employer_id": _l("Demandée par"),
        "also_asked_by": _l("Demandée aussi par"),
    },
    SectionKey.MODULES: {
        "title": _l("Intitulé"),
        "hours": _l("Heures"),
        "place": _l("Lieu"),
        "employer_id": _l("Entreprise"),
        "skill_ids": _l("Compétences développées"),
        "trainer": _l("Intervenant"),
    },
    SectionKey.RHYTHM: {
        "kind": _l("Type de période"),
        "label": _l("Libellé"),
        "start": _l("Du"),
        "end": _l("Au"),
        "hours": _l("Heures"),
        "employer_id": _l("Entreprise"),
    },
}


@dataclass(frozen=True)
class Chunk:
    """A stretch of text: ``"same"``, ``"added"`` or ``"removed"``."""

    kind: str
    text: str


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def _append(chunks: list[Chunk], kind: str, text: str) -> None:
    if not text:
        return
    if chunks and chunks[-1].kind == kind:
        chunks[-1] = Chunk(kind, chunks[-1].text + text)
    else:
        chunks.append(Chunk(kind, text))


def _diff_words(old: str, new: str, chunks: list[Chunk]) -> None:
    old_tokens, new_tokens = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        _append(chunks, "same" if op == "equal" else "removed", "".join(old_tokens[i1:i2]))
        if op != "equal":
            _append(chunks, "added", "".join(new_tokens[j1:j2]))


def text_diff(old: str, new: str) -> list[Chunk]:
    """The chunks that turn ``old`` into ``new``: lines first, then words in changed lines.

    Lines are matched on their text without the line break, so that the last line (which
    has none) still matches itself once a line is added after it.
    """
    old_lines, new_lines = _LINES.findall(old), _LINES.findall(new)
    matcher = difflib.SequenceMatcher(
        None,
        [line.rstrip("\n") for line in old_lines],
        [line.rstrip("\n") for line in new_lines],
        autojunk=False,
    )
    chunks: list[Chunk] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        before, after = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if op == "equal":
            # Equal but for the line break ending the block (the last line of a text).
            _append(chunks, "same", before if len(before) <= len(after) else after)
            _append(chunks, "removed", before[len(after) :])
            _append(chunks, "added", after[len(before) :])
        elif op == "replace":
            _diff_words(before, after, chunks)
        else:
            _append(chunks, "removed", before)
            _append(chunks, "added", after)
    return chunks


@dataclass(frozen=True)
class FieldChange:
    """One field of an item: its label and its value before and after (displayed)."""

    label: str
    old: str
    new: str


@dataclass
class ItemChange:
    """An item ``"added"``, ``"removed"`` or ``"changed"``; ``fields`` are the values shown
    (all of them for an addition or a removal, the differing ones for a change)."""

    kind: str
    name: str
    fields: list[FieldChange] = field(default_factory=list)


@dataclass
class ItemsDiff:
    """The changes of a list section, in the new list's order (removals last)."""

    changes: list[ItemChange]
    reordered: bool

    @property
    def empty(self) -> bool:
        return not self.changes and not self.reordered


class ItemFormatter:
    """Shows the items of a list section in French: names, field labels, values.

    ``org_names`` maps organisation ids to names (the employers items point to) and
    ``skill_labels`` skill ids to labels (modules point to the skills they develop).
    """

    def __init__(self, key: SectionKey, org_names=None, skill_labels=None):
        self.key = key
        self.labels = FIELD_LABELS.get(key, {})
        self.org_names = org_names or {}
        self.skill_labels = skill_labels or {}

    def label(self, name: str) -> str:
        return str(self.labels.get(name, name))

    def value(self, name: str, value) -> str:
        """A field's value as a reader expects it (dates in French, places by title)."""
        if value in (None, "", []):
            return ""
        if name == "employer_id":
            return self.org_names.get(_as_int(value), str(value))
        if name == "also_asked_by":
            return ", ".join(self.org_names.get(_as_int(v), str(v)) for v in value)
        if name == "kind" and self.key == SectionKey.RHYTHM:
            return str(PERIOD_KINDS.get(value, value))
        if name == "place":
            return str(MODULE_PLACES.get(value, value))
        if name in ("start", "end"):
            try:
                return format_date(date.fromisoformat(value), "d MMMM y")
            except (TypeError, ValueError):
                return str(value)
        if isinstance(value, list):
            return ", ".join(self.skill_labels.get(v, str(v)) for v in value)
        return str(value)

    def name(self, item: dict) -> str:
        """What the item is called: its label or title, or a period's kind and dates."""
        if self.key == SectionKey.RHYTHM:
            kind = self.value("kind", item.get("kind"))
            start, end = self.value("start", item.get("start")), self.value("end", item.get("end"))
            return " ".join(part for part in (kind, item.get("label", "")) if part) + (
                f" ({start} – {end})" if start or end else ""
            )
        return str(item.get("label") or item.get("title") or "—")

    def fields(self, item: dict) -> list[tuple[str, str]]:
        """(label, value) of every shown field of ``item``, known fields first."""
        names = [n for n in self.labels if n in item] + [
            n for n in item if n not in self.labels and n != "id"
        ]
        return [(self.label(n), self.value(n, item[n])) for n in names]


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def items_diff(old: list[dict], new: list[dict], formatter: ItemFormatter) -> ItemsDiff:
    """Item-by-item changes from ``old`` to ``new`` (items matched on their ``id``)."""
    old_by_id = {item.get("id"): item for item in old}
    new_ids = {item.get("id") for item in new}
    changes = []
    for item in new:
        before = old_by_id.get(item.get("id"))
        if before is None:
            fields = [FieldChange(label, "", value) for label, value in formatter.fields(item)]
            changes.append(ItemChange("added", formatter.name(item), fields))
        elif before != item:
            names = [n for n in dict.fromkeys([*item, *before]) if n != "id"]
            fields = [
                FieldChange(
                    formatter.label(n),
                    formatter.value(n, before.get(n)),
                    formatter.value(n, item.get(n)),
                )
                for n in names
                if before.get(n) != item.get(n)
            ]
            changes.append(ItemChange("changed", formatter.name(item), fields))
    for item in old:
        if item.get("id") not in new_ids:
            fields = [FieldChange(label, value, "") for label, value in formatter.fields(item)]
            changes.append(ItemChange("removed", formatter.name(item), fields))
    common_old = [i.get("id") for i in old if i.get("id") in new_ids]
    common_new = [i.get("id") for i in new if i.get("id") in old_by_id]
    return ItemsDiff(changes, reordered=common_old != common_new)
