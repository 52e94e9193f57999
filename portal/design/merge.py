"""Three-way merge of a training-design section edited concurrently: no lost update, ever.

Two people open the same section at version *base*; one saves *theirs* first, the
other then saves *mine*. These pure functions merge both edits when they do not
overlap, and otherwise describe each conflict exactly so that the user can choose;
the user's own edit is always handed back whole (``TextMerge.mine``, ``ListMerge.mine``)
so that nothing typed is lost even before the conflict is resolved.

Free text is merged line by line with merge3, the three-way merge of Bazaar, now
maintained by the Breezy team as a small typed package on PyPI. It is the algorithm of
a version-control system used on large code bases for twenty years: both sides are
aligned on the base by a two-way diff, the lines unchanged on *both* sides anchor the
merge, and each stretch in between is taken from the side that changed it, kept when
both made the same change, and reported as a conflict otherwise. Writing our own
diff3 would re-learn those edge cases. merge3 is licensed GPL-2.0-or-later.

List sections (skills, modules, periods) are merged item by item on their stable ids,
a conflict being attached to the one item that both sides changed differently.
"""

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import merge3

Item = dict[str, Any]
SameSegment = tuple[Literal["same"], list[str]]
ConflictSegment = tuple[Literal["conflict"], list[str], list[str], list[str]]
Segment = SameSegment | ConflictSegment
ItemChoice = Literal["mine", "theirs", "drop"]

_LINE_BREAK = re.compile(r"\r\n?")


# --- Text --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    """One conflicting stretch: the base lines and what each side made of them.

    Lines keep their ``"\\n"`` so that ``"".join(lines)`` rebuilds the text exactly.
    """

    base: list[str]
    mine: list[str]
    theirs: list[str]


@dataclass(frozen=True)
class TextMerge:
    """The outcome of ``merge_text``.

    ``merged`` is the merged text, or None when there is a conflict; ``conflicts``
    lists them in text order; ``both_changed`` is True when both sides changed the
    text and it merged cleanly (the UI then tells the user that the two edits were
    combined); ``mine`` is the user's own text, line endings normalised, so that a
    conflict never loses it; ``segments`` is the whole text cut into settled and
    conflicting stretches (see ``render_conflict``).
    """

    merged: str | None
    conflicts: list[Conflict]
    both_changed: bool
    mine: str
    segments: list[Segment]

    @property
    def clean(self) -> bool:
        """True when the two edits merged without conflict."""
        return not self.conflicts


class _ExactMatcher(difflib.SequenceMatcher):
    """difflib's matcher without the "popular element" heuristic.

    With it, in a text of 200 lines or more any line that occurs often (a blank line,
    a "- " bullet) may not anchor a match, so two edits a few lines apart become one
    spurious conflict. Sections are small enough for exact matching.
    """

    def __init__(self, isjunk=None, a="", b="", autojunk=False):
        super().__init__(isjunk, a, b, autojunk)


def normalise_newlines(text: str) -> str:
    """Return ``text`` with CRLF, and a lone CR, turned into LF.

    A lone CR is a line break too, as in an HTML form field; this also makes the
    normalisation idempotent (``"\\r\\r\\n"`` would otherwise leave a CRLF behind).
    """
    return _LINE_BREAK.sub("\n", text)


def _split_lines(text: str) -> list[str]:
    """Lines ending with their ``"\\n"`` (the last one may have none).

    Only LF separates lines: ``str.splitlines`` would also cut at form feeds or
    U+2028, which a user may paste inside a line.
    """
    *complete, last = text.split("\n")
    return [line + "\n" for line in complete] + ([last] if last else [])


def merge_text(base: str, mine: str, theirs: str) -> TextMerge:
    """Merge two concurrent edits of the text ``base``, line by line.

    A stretch changed on one side only takes that side's version; a stretch changed
    identically on both sides is not a conflict; stretches changed differently on both
    sides are conflicts, and ``merged`` is then None. As in diff3, edits of adjacent
    lines conflict: with no unchanged line between them, nothing tells how they fit.
    """
    base, mine, theirs = (normalise_newlines(text) for text in (base, mine, theirs))
    merger = merge3.Merge3(
        _split_lines(base),
        _split_lines(mine),
        _split_lines(theirs),
        sequence_matcher=_ExactMatcher,
    )
    segments: list[Segment] = []
    conflicts: list[Conflict] = []
    for group in merger.merge_groups():
        if group[0] == "conflict":
            conflict = Conflict(list(group[1]), list(group[2]), list(group[3]))
            conflicts.append(conflict)
            segments.append(("conflict", conflict.base, conflict.mine, conflict.theirs))
        elif not group[1]:
            continue  # a deletion: nothing to show
        elif segments and segments[-1][0] == "same":
            segments[-1][1].extend(group[1])
        else:
            segments.append(("same", list(group[1])))
    merged = None if conflicts else "".join(line for seg in segments for line in seg[1])
    return TextMerge(
        merged=merged,
        conflicts=conflicts,
        both_changed=not conflicts and mine != base and theirs != base,
        mine=mine,
        segments=segments,
    )


def render_conflict(merge: TextMerge) -> list[Segment]:
    """The text cut for a side-by-side view, in order.

    ``("same", lines)`` is a settled stretch (unchanged, or changed by one side, or
    identically by both); ``("conflict", base_lines, mine_lines, theirs_lines)`` a
    conflicting one. Adjacent settled stretches are joined; an empty text gives ``[]``.
    The lists are copies: the view may change them without altering ``merge``.
    """
    return [
        ("same", list(seg[1]))
        if seg[0] == "same"
        else ("conflict", list(seg[1]), list(seg[2]), list(seg[3]))
        for seg in merge.segments
    ]


def resolve_text(merge: TextMerge, choice: str) -> str:
    """The final text once the user has chosen.

    ``"mine"`` (resp. ``"theirs"``) takes that side's lines in every conflict and keeps
    the settled stretches, so the other side's non-conflicting edits are not lost;
    for a clean merge both give ``merge.merged``. Any other string is the user's own
    text, typed in the conflict view, returned with its line endings normalised (a
    custom text that is exactly ``"mine"`` or ``"theirs"`` is read as the choice).
    """
    if choice not in ("mine", "theirs"):
        return normalise_newlines(choice)
    side = 2 if choice == "mine" else 3
    return "".join(
        line for seg in merge.segments for line in (seg[1] if seg[0] == "same" else seg[side])
    )


# --- Lists of items ----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemConflict:
    """An item that both sides changed differently (a deletion counts as a change)."""

    id: str
    base: Item | None
    mine: Item | None
    theirs: Item | None


@dataclass(frozen=True)
class ListMerge:
    """The outcome of ``merge_items``.

    ``items`` is the merged list; a conflicting item appears there in *theirs* version
    (or not at all if they deleted it) until the user resolves it. ``order_conflict``
    is True when both sides reordered the items differently: theirs' order was kept.
    ``mine`` is the user's own list, returned unchanged.
    """

    items: list[Item]
    conflicts: list[ItemConflict]
    order_conflict: bool
    mine: list[Item]

    @property
    def clean(self) -> bool:
        """True when nothing either side did had to be set aside."""
        return not self.conflicts and not self.order_conflict


def _by_id(items: Iterable[Item], side: str) -> dict[str, Item]:
    """Index a list by item id, refusing the malformed lists that would merge wrongly."""
    index: dict[str, Item] = {}
    for item in items:
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise ValueError(f"{side}: every item needs a non-empty string 'id'")
        if item_id in index:
            raise ValueError(f"{side}: duplicate item id {item_id!r}")
        index[item_id] = item
    return index


def _merge_item(
    base: Item | None, mine: Item | None, theirs: Item | None
) -> tuple[Item | None, bool]:
    """The merged value of one item (None: absent) and whether it is a conflict.

    Absence is a value like any other, so additions and deletions follow the same
    three-way rule as changes; a conflict keeps theirs, the version already saved.
    """
    if mine == theirs:
        return theirs, False
    if mine == base:
        return theirs, False
    if theirs == base:
        return mine, False
    return theirs, True


def _place(order: list[str], side: list[str], keep: Mapping[str, object]) -> None:
    """Insert into ``order`` the kept ids of ``side`` that it lacks.

    Each goes right after its nearest preceding neighbour on that side (at the start
    if none), past items that side does not know: concurrent additions at the same
    spot keep the ones already placed first.
    """
    placed = set(order)
    known = set(side)
    anchor: str | None = None
    for item_id in side:
        if item_id not in placed:
            if item_id not in keep:
                continue
            position = order.index(anchor) + 1 if anchor is not None else 0
            while position < len(order) and order[position] not in known:
                position += 1
            order.insert(position, item_id)
            placed.add(item_id)
        anchor = item_id


def merge_items(base: list[Item], mine: list[Item], theirs: list[Item]) -> ListMerge:
    """Merge two concurrent edits of a list of items that carry a stable ``"id"``.

    Per item: a change (or deletion) on one side only is taken; the same change on
    both sides is fine; different changes, or a deletion against a change, are a
    conflict on that item alone. Additions from both sides are kept. Order: the items
    common to all three lists follow the side that reordered them (theirs if both
    did); theirs' additions then mine's are inserted after their preceding neighbour.
    """
    base_by_id, mine_by_id = _by_id(base, "base"), _by_id(mine, "mine")
    theirs_by_id = _by_id(theirs, "theirs")

    kept: dict[str, Item] = {}
    conflicts: list[ItemConflict] = []
    for item_id in dict.fromkeys([*theirs_by_id, *mine_by_id, *base_by_id]):
        versions = (base_by_id.get(item_id), mine_by_id.get(item_id), theirs_by_id.get(item_id))
        value, conflicting = _merge_item(*versions)
        if conflicting:
            conflicts.append(ItemConflict(item_id, *versions))
        if value is not None:
            kept[item_id] = value

    common = base_by_id.keys() & mine_by_id.keys() & theirs_by_id.keys()
    base_order, mine_order, theirs_order = (
        [item_id for item_id in index if item_id in common]
        for index in (base_by_id, mine_by_id, theirs_by_id)
    )
    mine_moved, theirs_moved = mine_order != base_order, theirs_order != base_order
    order = mine_order if mine_moved and not theirs_moved else theirs_order
    _place(order, list(theirs_by_id), kept)
    _place(order, list(mine_by_id), kept)
    return ListMerge(
        items=[kept[item_id] for item_id in order],
        conflicts=conflicts,
        order_conflict=mine_moved and theirs_moved and mine_order != theirs_order,
        mine=mine,
    )


def resolve_items(merge: ListMerge, choices: Mapping[str, ItemChoice]) -> list[Item]:
    """The final list once the user has chosen, for every conflicting item id,
    ``"mine"``, ``"theirs"`` or ``"drop"``.

    Choosing a side that deleted the item removes it; choosing mine for an item that
    theirs deleted puts it back after its preceding neighbour in mine. An order
    conflict is settled in theirs' order. Raises ValueError when a conflict has no
    choice, a choice names no conflict, or a choice is unknown.
    """
    by_id = {conflict.id: conflict for conflict in merge.conflicts}
    if missing := by_id.keys() - choices.keys():
        raise ValueError(f"no choice for conflicting items {sorted(missing)}")
    if extra := choices.keys() - by_id.keys():
        raise ValueError(f"no conflict on items {sorted(extra)}")
    if bad := set(choices.values()) - {"mine", "theirs", "drop"}:
        raise ValueError(f"unknown choices {sorted(bad)}")

    values = {item["id"]: item for item in merge.items}
    for item_id, choice in choices.items():
        conflict = by_id[item_id]
        value = {"mine": conflict.mine, "theirs": conflict.theirs, "drop": None}[choice]
        if value is None:
            values.pop(item_id, None)
        else:
            values[item_id] = value
    order = [item["id"] for item in merge.items if item["id"] in values]
    _place(order, [item["id"] for item in merge.mine], values)
    return [values[item_id] for item_id in order]
