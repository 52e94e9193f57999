"""The co-design merge engine: unit cases for each rule, then properties (hypothesis)
that hold for any pair of concurrent edits: nothing either side typed is lost."""

from collections import Counter
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.design.merge import (
    Conflict,
    ItemConflict,
    merge_items,
    merge_text,
    normalise_newlines,
    render_conflict,
    resolve_items,
    resolve_text,
)
from tests.support import examples


@pytest.fixture(autouse=True)
def _clean_database():
    """Pure functions: nothing to clean, so no application or database to build.

    Overrides the suite-wide autouse fixture of the same name for this module only.
    """
    yield


# Merges are fast, but a loaded CI machine must not turn a slow example into a failure.
PROPERTY = settings(max_examples=examples(300), deadline=None)


def text(*lines: str) -> str:
    """Lines joined with a final newline, as a textarea usually holds them."""
    return "".join(line + "\n" for line in lines)


# --- Text: unit cases --------------------------------------------------------------------


def test_non_overlapping_edits_keep_both():
    base = text("Objectifs", "Public", "Durée : 35 h", "Lieu : Tours")
    mine = text("Objectifs pédagogiques", "Public", "Durée : 35 h", "Lieu : Tours")
    theirs = text("Objectifs", "Public", "Durée : 35 h", "Lieu : Orléans")

    result = merge_text(base, mine, theirs)

    assert result.clean
    assert result.merged == text(
        "Objectifs pédagogiques", "Public", "Durée : 35 h", "Lieu : Orléans"
    )
    assert result.conflicts == []
    assert result.both_changed


def test_overlapping_edits_give_a_conflict_with_the_right_chunks():
    base = text("Intro", "Durée : 35 h", "Fin")
    mine = text("Intro", "Durée : 70 h", "Fin")
    theirs = text("Intro", "Durée : 105 h", "en alternance", "Fin")

    result = merge_text(base, mine, theirs)

    assert not result.clean
    assert result.merged is None
    assert not result.both_changed
    assert result.conflicts == [
        Conflict(
            base=["Durée : 35 h\n"],
            mine=["Durée : 70 h\n"],
            theirs=["Durée : 105 h\n", "en alternance\n"],
        )
    ]
    assert result.mine == mine


def test_two_conflicts_are_listed_in_text_order():
    base = text("a", "b", "c", "d", "e")
    mine = text("A1", "b", "c", "d", "E1")
    theirs = text("A2", "b", "c", "d", "E2")

    conflicts = merge_text(base, mine, theirs).conflicts

    assert [(c.mine, c.theirs) for c in conflicts] == [
        (["A1\n"], ["A2\n"]),
        (["E1\n"], ["E2\n"]),
    ]


def test_identical_edits_merge_cleanly():
    base = text("Module 1", "Module 2")
    both = text("Module 1", "Module 2 : sécurité", "Module 3")

    result = merge_text(base, both, both)

    assert result.clean
    assert result.merged == both
    # Both sides did change the text: the UI may say so, nothing differs from mine.
    assert result.both_changed


@pytest.mark.parametrize("unchanged_side", ["mine", "theirs"])
def test_one_side_unchanged_the_other_side_wins(unchanged_side):
    base = text("Compétences", "Soudure", "Lecture de plans")
    edited = text("Compétences visées", "Lecture de plans", "Habilitation électrique")
    mine, theirs = (base, edited) if unchanged_side == "mine" else (edited, base)

    result = merge_text(base, mine, theirs)

    assert result.clean
    assert result.merged == edited
    assert not result.both_changed


def test_no_change_at_all():
    base = text("Rien ne change")

    result = merge_text(base, base, base)

    assert result.clean and result.merged == base and not result.both_changed


def test_crlf_is_normalised_before_merging():
    base = "Objectifs\nPublic\nPrérequis\nDurée\n"
    mine = "Objectifs\r\nPublic visé\r\nPrérequis\r\nDurée\r\n"  # a browser submits CRLF
    theirs = "Objectifs\nPublic\nPrérequis\nDurée : 35 h\n"

    result = merge_text(base, mine, theirs)

    # Only the real edits count: the line endings alone are no change.
    assert result.clean
    assert result.merged == "Objectifs\nPublic visé\nPrérequis\nDurée : 35 h\n"
    assert result.mine == "Objectifs\nPublic visé\nPrérequis\nDurée\n"


def test_crlf_only_difference_is_no_change():
    base = text("a", "b")

    result = merge_text(base, base.replace("\n", "\r\n"), text("A", "B"))

    assert result.clean and result.merged == text("A", "B")
    assert not result.both_changed


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("a\r\nb", "a\nb"), ("a\rb", "a\nb"), ("a\r\r\nb", "a\n\nb"), ("a\n\rb", "a\n\nb")],
)
def test_normalise_newlines(raw, normalised):
    assert normalise_newlines(raw) == normalised
    assert normalise_newlines(normalised) == normalised


def test_empty_base_one_side_writes():
    result = merge_text("", text("Premier jet"), "")

    assert result.clean and result.merged == text("Premier jet")


def test_empty_base_both_write_the_same():
    result = merge_text("", text("Premier jet"), text("Premier jet"))

    assert result.clean and result.merged == text("Premier jet")


def test_empty_base_both_write_differently():
    result = merge_text("", text("Ma version"), text("Leur version"))

    assert result.merged is None
    assert result.conflicts == [Conflict(base=[], mine=["Ma version\n"], theirs=["Leur version\n"])]


def test_all_empty():
    result = merge_text("", "", "")

    assert result.clean and result.merged == ""
    assert render_conflict(result) == []


def test_text_without_final_newline():
    base = "Intro\nSuite\nFin"
    mine = "INTRO\nSuite\nFin"
    theirs = "Intro\nSuite\nFin modifiée"

    result = merge_text(base, mine, theirs)

    assert result.clean and result.merged == "INTRO\nSuite\nFin modifiée"


def test_edits_of_adjacent_lines_conflict():
    # As in diff3 and git: with no unchanged line between them, nothing anchors the
    # two edits relative to each other.
    result = merge_text(text("a", "b"), text("A", "b"), text("a", "B"))

    assert result.conflicts == [Conflict(["a\n", "b\n"], ["A\n", "b\n"], ["a\n", "B\n"])]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x0c", "\x0b", "\x1c", "\x85"])
def test_only_line_feeds_separate_lines(separator):
    # str.splitlines would cut at these: the two edits would then touch lines with an
    # unchanged one between them and merge "cleanly" inside what the user sees as one line.
    base = separator.join(["début", "milieu", "fin"]) + "\n"
    mine = separator.join(["DÉBUT", "milieu", "fin"]) + "\n"
    theirs = separator.join(["début", "milieu", "FIN"]) + "\n"

    result = merge_text(base, mine, theirs)

    assert result.conflicts == [Conflict([base], [mine], [theirs])]


def test_long_text_with_frequent_blank_lines_merges_nearby_edits():
    # From 200 lines on, difflib's autojunk heuristic would refuse blank lines as
    # anchors here, turning two separate edits into one conflict.
    base = [line for i in range(60) for line in (f"Paragraphe {i}", "", "", "")]
    k = base.index("Paragraphe 30")
    theirs = [*base[: k + 1], "Ajout", *base[k + 1 : k + 4], "PARAGRAPHE 31", *base[k + 5 :]]
    mine = list(base)
    mine[k + 2] = "Au milieu"

    result = merge_text(text(*base), text(*mine), text(*theirs))

    expected = list(theirs)
    expected[k + 3] = "Au milieu"  # after the added line
    assert result.clean
    assert result.merged == text(*expected)


def test_render_conflict_segments():
    base = text("Intro", "Durée : 35 h", "Lieu", "Fin")
    mine = text("Intro", "Durée : 70 h", "Lieu", "Fin")
    theirs = text("Intro", "Durée : 105 h", "Lieu", "Fin", "Annexe")

    segments = render_conflict(merge_text(base, mine, theirs))

    assert segments == [
        ("same", ["Intro\n"]),
        ("conflict", ["Durée : 35 h\n"], ["Durée : 70 h\n"], ["Durée : 105 h\n"]),
        ("same", ["Lieu\n", "Fin\n", "Annexe\n"]),
    ]


def test_render_conflict_joins_settled_stretches():
    base = text("a", "b", "c", "d")
    mine = text("A", "b", "c", "d")
    theirs = text("a", "b", "c", "D")

    assert render_conflict(merge_text(base, mine, theirs)) == [
        ("same", ["A\n", "b\n", "c\n", "D\n"])
    ]


def test_render_conflict_returns_copies():
    result = merge_text(text("a"), text("b"), text("c"))

    render_conflict(result)[0][2].append("altéré\n")

    assert result.conflicts[0].mine == ["b\n"]
    assert resolve_text(result, "mine") == text("b")


def test_resolve_text_choices_keep_the_settled_parts():
    base = text("Titre", "", "Durée : 35 h", "", "Lieu")
    mine = text("Titre", "", "Durée : 70 h", "", "Lieu : Tours")
    theirs = text("Titre révisé", "", "Durée : 105 h", "", "Lieu")
    result = merge_text(base, mine, theirs)
    assert len(result.conflicts) == 1

    # Choosing a side for the conflict keeps the other side's separate edits.
    assert resolve_text(result, "mine") == text(
        "Titre révisé", "", "Durée : 70 h", "", "Lieu : Tours"
    )
    assert resolve_text(result, "theirs") == text(
        "Titre révisé", "", "Durée : 105 h", "", "Lieu : Tours"
    )
    assert resolve_text(result, "Texte\r\nréécrit\r\n") == text("Texte", "réécrit")


def test_resolve_text_on_a_clean_merge_is_the_merged_text():
    result = merge_text(text("a", "-", "b"), text("A", "-", "b"), text("a", "-", "B"))

    assert result.merged == text("A", "-", "B")
    assert resolve_text(result, "mine") == resolve_text(result, "theirs") == result.merged


def test_merge_result_is_frozen():
    result = merge_text("a", "b", "c")

    with pytest.raises(AttributeError):
        result.merged = "autre"  # type: ignore[misc]


# --- Lists: unit cases -------------------------------------------------------------------


def item(item_id: str, **fields) -> dict:
    """A list item: a stable id plus its fields."""
    return {"id": item_id, "label": item_id.upper(), **fields}


def ids(items: list[dict]) -> list[str]:
    """The ids of the items, in order."""
    return [i["id"] for i in items]


def test_additions_on_both_sides_are_kept_theirs_first():
    base = [item("a"), item("b"), item("c")]
    mine = [item("a"), item("m1"), item("m2"), item("b"), item("c"), item("m3")]
    theirs = [item("t0"), item("a"), item("t1"), item("b"), item("c")]

    result = merge_items(base, mine, theirs)

    assert result.clean
    # Same spot (after "a"): theirs' addition, then mine's in mine's order.
    assert ids(result.items) == ["t0", "a", "t1", "m1", "m2", "b", "c", "m3"]


def test_addition_at_the_start_without_neighbour():
    base = [item("a")]

    result = merge_items(base, [item("m"), item("a")], [item("t"), item("a")])

    assert ids(result.items) == ["t", "m", "a"]


def test_addition_after_an_item_the_other_side_deleted():
    base = [item("a"), item("b"), item("c")]
    mine = [item("a"), item("b"), item("m"), item("c")]
    theirs = [item("a"), item("c")]

    result = merge_items(base, mine, theirs)

    assert result.clean
    assert ids(result.items) == ["a", "m", "c"]


@pytest.mark.parametrize("deleting_side", ["mine", "theirs"])
def test_deleted_on_one_side_unchanged_on_the_other_is_deleted(deleting_side):
    base = [item("a"), item("b"), item("c")]
    deleted = [item("a"), item("c")]
    mine, theirs = (deleted, base) if deleting_side == "mine" else (base, deleted)

    result = merge_items(base, mine, theirs)

    assert result.clean
    assert ids(result.items) == ["a", "c"]


def test_deleted_on_both_sides():
    base = [item("a"), item("b")]

    result = merge_items(base, [item("a")], [item("a")])

    assert result.clean and ids(result.items) == ["a"]


def test_deleted_by_theirs_changed_by_mine_is_a_conflict():
    base = [item("a"), item("b", hours=7), item("c")]
    mine = [item("a"), item("b", hours=14), item("c")]
    theirs = [item("a"), item("c", label="C!")]

    result = merge_items(base, mine, theirs)

    assert not result.clean
    assert result.conflicts == [ItemConflict("b", item("b", hours=7), item("b", hours=14), None)]
    # Theirs version in place: they deleted it; the rest is merged.
    assert result.items == [item("a"), item("c", label="C!")]


def test_deleted_by_mine_changed_by_theirs_is_a_conflict():
    base = [item("a"), item("b", hours=7), item("c")]
    mine = [item("a", label="A!"), item("c")]
    theirs = [item("a"), item("b", hours=21), item("c")]

    result = merge_items(base, mine, theirs)

    assert result.conflicts == [ItemConflict("b", item("b", hours=7), None, item("b", hours=21))]
    assert result.items == [item("a", label="A!"), item("b", hours=21), item("c")]


@pytest.mark.parametrize("changing_side", ["mine", "theirs"])
def test_changed_on_one_side_only_takes_the_change(changing_side):
    base = [item("a"), item("b", hours=7)]
    changed = [item("a"), item("b", hours=35)]
    mine, theirs = (changed, base) if changing_side == "mine" else (base, changed)

    result = merge_items(base, mine, theirs)

    assert result.clean
    assert result.items == changed


def test_same_change_on_both_sides_is_fine():
    base = [item("a", hours=7)]
    both = [item("a", hours=14)]

    result = merge_items(base, both, both)

    assert result.clean and result.items == both


def test_different_changes_conflict_on_that_item_only():
    base = [item("a"), item("b", hours=7), item("c")]
    mine = [item("a", label="A!"), item("b", hours=14), item("c"), item("m")]
    theirs = [item("a"), item("b", hours=21), item("t"), item("c", label="C!")]

    result = merge_items(base, mine, theirs)

    assert result.conflicts == [
        ItemConflict("b", item("b", hours=7), item("b", hours=14), item("b", hours=21))
    ]
    assert result.items == [
        item("a", label="A!"),
        item("b", hours=21),  # theirs in place until resolved
        item("t"),
        item("c", label="C!"),
        item("m"),
    ]


def test_same_id_added_on_both_sides():
    base = [item("a")]
    same = merge_items(base, [item("a"), item("n")], [item("a"), item("n")])
    different = merge_items(base, [item("a"), item("n", hours=1)], [item("a"), item("n", hours=2)])

    assert same.clean and ids(same.items) == ["a", "n"]
    assert different.conflicts == [ItemConflict("n", None, item("n", hours=1), item("n", hours=2))]
    assert different.items == [item("a"), item("n", hours=2)]


@pytest.mark.parametrize("reordering_side", ["mine", "theirs"])
def test_reordered_on_one_side_takes_its_order(reordering_side):
    base = [item("a"), item("b"), item("c"), item("d")]
    reordered = [item("d"), item("b"), item("a"), item("c")]
    other = [item("a"), item("b", hours=3), item("x"), item("c"), item("d")]
    mine, theirs = (reordered, other) if reordering_side == "mine" else (other, reordered)

    result = merge_items(base, mine, theirs)

    assert result.clean
    # The other side's change and addition (after "b") survive the new order.
    assert result.items == [item("d"), item("b", hours=3), item("x"), item("a"), item("c")]


def test_reordered_identically_on_both_sides():
    base = [item("a"), item("b")]
    both = [item("b"), item("a")]

    result = merge_items(base, both, both)

    assert result.clean and ids(result.items) == ["b", "a"]


def test_reordered_differently_on_both_sides_keeps_theirs_and_says_so():
    base = [item("a"), item("b"), item("c")]
    mine = [item("c"), item("a"), item("b")]
    theirs = [item("b"), item("a"), item("c")]

    result = merge_items(base, mine, theirs)

    assert result.order_conflict and not result.clean
    assert result.conflicts == []
    assert ids(result.items) == ["b", "a", "c"]
    assert resolve_items(result, {}) == theirs


def test_a_deletion_is_not_a_reordering():
    base = [item("a"), item("b"), item("c")]
    mine = [item("a"), item("c")]
    theirs = [item("c"), item("b"), item("a")]

    result = merge_items(base, mine, theirs)

    assert result.clean
    assert ids(result.items) == ["c", "a"]


def test_mine_is_returned_unchanged():
    mine = [item("a", hours=14)]

    result = merge_items([item("a", hours=7)], mine, [item("a", hours=21)])

    assert result.mine == [item("a", hours=14)]


@pytest.mark.parametrize(
    "bad",
    [
        [item("a"), item("a")],
        [{"label": "sans id"}],
        [{"id": ""}],
        [{"id": 3}],
    ],
)
def test_malformed_lists_are_refused(bad):
    with pytest.raises(ValueError):
        merge_items([], bad, [])


# --- Lists: resolution -------------------------------------------------------------------


@pytest.fixture
def two_conflicts():
    """b changed differently on both sides; c deleted by theirs, changed by mine."""
    base = [item("a"), item("b", hours=7), item("c", hours=7), item("d")]
    mine = [item("a"), item("b", hours=14), item("c", hours=14), item("d")]
    theirs = [item("a"), item("b", hours=21), item("d"), item("t")]
    return merge_items(base, mine, theirs)


@pytest.mark.parametrize(
    ("choices", "expected"),
    [
        (
            {"b": "mine", "c": "mine"},
            [item("a"), item("b", hours=14), item("c", hours=14), item("d"), item("t")],
        ),
        ({"b": "theirs", "c": "theirs"}, [item("a"), item("b", hours=21), item("d"), item("t")]),
        ({"b": "drop", "c": "drop"}, [item("a"), item("d"), item("t")]),
        (
            {"b": "theirs", "c": "mine"},
            [item("a"), item("b", hours=21), item("c", hours=14), item("d"), item("t")],
        ),
    ],
)
def test_resolve_items(two_conflicts, choices, expected):
    assert resolve_items(two_conflicts, choices) == expected


def test_resolve_items_mine_deleted_keeps_the_deletion():
    base = [item("a"), item("b")]
    result = merge_items(base, [item("a")], [item("a"), item("b", hours=1)])

    assert resolve_items(result, {"b": "mine"}) == [item("a")]
    assert resolve_items(result, {"b": "theirs"}) == [item("a"), item("b", hours=1)]


@pytest.mark.parametrize(
    "choices",
    [
        {"b": "mine"},  # c left unresolved
        {"b": "mine", "c": "mine", "a": "mine"},  # a is no conflict
        {"b": "mine", "c": "both"},
    ],
)
def test_resolve_items_refuses_incomplete_or_unknown_choices(two_conflicts, choices):
    with pytest.raises(ValueError):
        resolve_items(two_conflicts, choices)


# --- Text: properties --------------------------------------------------------------------

# A tiny alphabet, so that the same line turns up on several sides and the diff has to
# choose between lookalikes; "" gives blank lines.
LINES = st.sampled_from(["a", "b", "c", ""])
POSITIONS = st.integers(0, 20)  # taken modulo the length: any position is valid
EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), POSITIONS, LINES),
        st.tuples(st.just("delete"), POSITIONS),
        st.tuples(st.just("replace"), POSITIONS, LINES),
    ),
    max_size=6,
)


def apply_line_edits(lines: list[str], edits) -> list[str]:
    """The lines after a sequence of insertions, deletions and replacements."""
    lines = list(lines)
    for kind, position, *line in edits:
        if kind == "insert":
            lines.insert(position % (len(lines) + 1), *line)
        elif lines:
            index = position % len(lines)
            if kind == "delete":
                del lines[index]
            else:
                lines[index] = line[0]
    return lines


@st.composite
def as_text(draw, lines: list[str]) -> str:
    """The lines as a text, with or without a final newline, in LF or CRLF."""
    result = "\n".join(lines) + ("\n" if lines and draw(st.booleans()) else "")
    return result.replace("\n", "\r\n") if draw(st.booleans()) else result


@st.composite
def concurrent_texts(draw) -> tuple[str, str, str]:
    """A base text and two independent edits of it."""
    base = draw(st.lists(LINES, max_size=8))
    mine = apply_line_edits(base, draw(EDITS))
    theirs = apply_line_edits(base, draw(EDITS))
    return draw(as_text(base)), draw(as_text(mine)), draw(as_text(theirs))


def lines_of(value: str) -> Counter:
    """The lines of a text as a multiset (the alphabet holds no other line separator)."""
    return Counter(normalise_newlines(value).splitlines(keepends=True))


def added(edited: str, base: str) -> Counter:
    """The lines an edit added, as a multiset: k - j copies of a line held k times
    by the edit and j < k times by base."""
    return lines_of(edited) - lines_of(base)


def contains(whole: Counter, part: Counter) -> bool:
    """Multiset inclusion: every line of ``part``, as many times, is in ``whole``."""
    return not part - whole


@PROPERTY
@given(concurrent_texts())
def test_property_nothing_typed_is_lost(texts):
    base, mine, theirs = texts

    result = merge_text(base, mine, theirs)

    assert result.mine == normalise_newlines(mine)
    if result.clean:
        assert result.merged is not None
        assert contains(lines_of(result.merged), added(mine, base))
        assert contains(lines_of(result.merged), added(theirs, base))
    else:
        assert result.merged is None
        settled = Counter(
            line for seg in render_conflict(result) if seg[0] == "same" for line in seg[1]
        )
        in_mine = Counter(line for conflict in result.conflicts for line in conflict.mine)
        in_theirs = Counter(line for conflict in result.conflicts for line in conflict.theirs)
        assert contains(settled + in_mine, added(mine, base))
        assert contains(settled + in_theirs, added(theirs, base))
    # Whatever the user picks, the lines that side added are all there.
    assert contains(lines_of(resolve_text(result, "mine")), added(mine, base))
    assert contains(lines_of(resolve_text(result, "theirs")), added(theirs, base))


@PROPERTY
@given(concurrent_texts())
def test_property_merge_is_well_formed_and_symmetric(texts):
    base, mine, theirs = texts

    result = merge_text(base, mine, theirs)
    segments = render_conflict(result)

    assert [Conflict(*seg[1:]) for seg in segments if seg[0] == "conflict"] == result.conflicts
    assert all(c.mine != c.theirs for c in result.conflicts)
    # No empty settled stretch, and no two in a row.
    assert all(seg[1] for seg in segments if seg[0] == "same")
    assert all(a[0] != "same" or b[0] != "same" for a, b in pairwise(segments))
    if result.clean:
        assert "".join(line for seg in segments for line in seg[1]) == result.merged
    base, mine, theirs = (normalise_newlines(t) for t in texts)
    assert result.both_changed == (result.clean and mine != base and theirs != base)
    # Which side saved first does not change the outcome, only who is "mine".
    swapped = merge_text(base, theirs, mine)
    assert swapped.merged == result.merged
    assert [(c.base, c.theirs, c.mine) for c in swapped.conflicts] == [
        (c.base, c.mine, c.theirs) for c in result.conflicts
    ]


@PROPERTY
@given(st.text(), st.text())
def test_property_one_sided_edit_of_any_text_wins(base, edited):
    # Any characters at all: CR, U+2028, form feeds, no final newline...
    expected = normalise_newlines(edited)

    assert merge_text(base, base, edited).merged == expected
    assert merge_text(base, edited, base).merged == expected
    assert merge_text(base, edited, edited).merged == expected


# --- Lists: properties -------------------------------------------------------------------

# Few ids and values, so that both sides touch the same items; the new ids are shared so
# that both sides sometimes add "the same" item.
BASE_IDS = ["i0", "i1", "i2", "i3", "i4", "i5"]
NEW_IDS = ["n0", "n1", "n2"]
VALUES = st.sampled_from(["x", "y", "z"])
ITEM_EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), POSITIONS, st.sampled_from(NEW_IDS), VALUES),
        st.tuples(st.just("delete"), POSITIONS),
        st.tuples(st.just("change"), POSITIONS, VALUES),
        st.tuples(st.just("move"), POSITIONS, POSITIONS),
    ),
    max_size=6,
)


def apply_item_edits(items: list[dict], edits) -> list[dict]:
    """The list after additions, deletions, changes and moves (ids stay unique)."""
    items = [dict(i) for i in items]
    for kind, position, *args in edits:
        if kind == "add":
            new_id, value = args
            if new_id not in ids(items):
                items.insert(position % (len(items) + 1), {"id": new_id, "v": value})
        elif items:
            index = position % len(items)
            if kind == "delete":
                del items[index]
            elif kind == "change":
                items[index] = {**items[index], "v": args[0]}
            else:
                items.insert(args[0] % len(items), items.pop(index))
    return items


@st.composite
def concurrent_lists(draw) -> tuple[list[dict], list[dict], list[dict]]:
    """A base list and two independent edits of it."""
    # The base order does not matter (the edits move items), only how many there are.
    base_ids = BASE_IDS[: draw(st.integers(0, len(BASE_IDS)))]
    base = [{"id": i, "v": draw(VALUES)} for i in base_ids]
    return base, apply_item_edits(base, draw(ITEM_EDITS)), apply_item_edits(base, draw(ITEM_EDITS))


def deleted_by(side: list[dict], base: list[dict], other: list[dict]) -> set[str]:
    """Ids that ``side`` deleted while ``other`` left them as in base: a clean deletion."""
    side_ids, other_by_id = set(ids(side)), {i["id"]: i for i in other}
    return {i["id"] for i in base if i["id"] not in side_ids and other_by_id.get(i["id"]) == i}


@PROPERTY
@given(concurrent_lists())
def test_property_no_item_is_lost(lists):
    base, mine, theirs = lists

    result = merge_items(base, mine, theirs)

    merged_ids = ids(result.items)
    conflict_ids = {c.id for c in result.conflicts}
    assert len(merged_ids) == len(set(merged_ids))
    survivors = (set(ids(mine)) - deleted_by(theirs, base, mine)) | (
        set(ids(theirs)) - deleted_by(mine, base, theirs)
    )
    assert survivors <= set(merged_ids) | conflict_ids
    assert set(merged_ids) <= set(ids(mine)) | set(ids(theirs))
    # Every merged item is a version one side actually wrote; a clean item is the
    # changed side's version.
    base_by_id, mine_by_id = {i["id"]: i for i in base}, {i["id"]: i for i in mine}
    theirs_by_id = {i["id"]: i for i in theirs}
    for merged in result.items:
        item_id = merged["id"]
        if item_id in conflict_ids:
            assert merged == theirs_by_id[item_id]
        elif mine_by_id.get(item_id) != base_by_id.get(item_id):
            assert merged == mine_by_id[item_id]
        else:
            assert merged == theirs_by_id[item_id]
    for conflict in result.conflicts:
        assert conflict.mine != conflict.theirs
        assert conflict.mine != conflict.base and conflict.theirs != conflict.base
    assert result.mine is mine


@PROPERTY
@given(concurrent_lists())
def test_property_one_side_unchanged_gives_the_other_exactly(lists):
    base, mine, theirs = lists

    assert merge_items(base, base, theirs).items == theirs
    assert merge_items(base, mine, base).items == mine
    assert merge_items(base, mine, mine).items == mine


@PROPERTY
@given(concurrent_lists())
def test_property_resolving_keeps_the_chosen_side(lists):
    base, mine, theirs = lists
    result = merge_items(base, mine, theirs)

    for side, edited in (("mine", mine), ("theirs", theirs)):
        final = resolve_items(result, {c.id: side for c in result.conflicts})
        final_ids = ids(final)
        assert len(final_ids) == len(set(final_ids))
        # Everything that side holds and the other did not cleanly delete is there,
        # in that side's version wherever that side changed it.
        other = theirs if side == "mine" else mine
        final_by_id = {i["id"]: i for i in final}
        base_by_id = {i["id"]: i for i in base}
        for kept in edited:
            if kept["id"] in deleted_by(other, base, edited):
                continue
            assert kept["id"] in final_by_id
            if kept != base_by_id.get(kept["id"]):
                assert final_by_id[kept["id"]] == kept
