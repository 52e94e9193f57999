"""What changed between two frozen versions of the convention, for the signers.

A signer who saw or signed an earlier version is shown what differs, part by part: the
operation's details, the parties, the job promises, the clauses and the co-designed
training. Text is compared with the design history's ``text_diff`` (lines, then words);
records and list sections item by item with ``items_diff``, so that both pages speak of
a change in the same words. The result renders with ``design/_history_diff.html``.
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from portal.conventions.snapshot import changed_parts, promise_is_lasting
from portal.design.diffs import Chunk, ItemFormatter, ItemsDiff, items_diff, text_diff
from portal.design.models import SectionKey
from portal.operations.models import Funding

PART_TITLES = {
    "operation": _l("Informations de l'opération"),
    "parties": _l("Parties à la convention"),
    "dual_memberships": _l("Cumuls d'appartenance approuvés par la Région"),
    "promises": _l("Promesses d'emploi"),
    "clauses": _l("Articles de la convention"),
    "design": _l("Annexe : la formation co-conçue"),
}

OPERATION_LABELS = {
    "title": _l("Intitulé"),
    "territory": _l("Bassin d'emploi"),
    "category_title": _l("Catégorie"),
    "rome_code": _l("Code ROME"),
    "trades": _l("Métiers"),
    "funding": _l("Financement"),
    "lot": _l("Lot du marché"),
    "fref_reference": _l("Référence FREF"),
    "session_start": _l("Début de la session"),
    "session_end": _l("Fin de la session"),
    "target_headcount": _l("Effectif ciblé"),
    "hours_centre": _l("Heures en centre"),
    "hours_company": _l("Heures en entreprise"),
    "certification_code": _l("Code de la certification"),
    "certification_title": _l("Certification visée"),
}
PARTY_LABELS = {
    "name": _l("Organisation"),
    "role_title": _l("Rôle"),
    "siret": _l("SIRET"),
    "city": _l("Commune"),
}
MENTION_LABELS = {"text": _l("Mention")}
PROMISE_LABELS = {
    "employer": _l("Employeur"),
    "job_title": _l("Poste"),
    "rome_code": _l("Code ROME"),
    "count": _l("Nombre de postes"),
    "contract_title": _l("Contrat"),
    "region_acceptance": _l("Emploi non durable accepté par la Région"),
    "planned_start": _l("Embauche prévue"),
    "technical_platform": _l("Plateau technique"),
}


@dataclass
class Block:
    """One changed thing (a clause, a section, a list of records) and how it changed.

    ``chunks`` for a text, ``items`` for records; ``compared_to`` lets the shared
    template word an empty difference as such.
    """

    title: str
    chunks: list[Chunk] | None = None
    items: ItemsDiff | None = None
    compared_to: int = 1

    @property
    def empty(self) -> bool:
        if self.chunks is not None:
            return all(chunk.kind == "same" for chunk in self.chunks)
        return self.items is None or self.items.empty


@dataclass
class PartDiff:
    """The changes of one part of the convention."""

    part: str
    title: str
    blocks: list[Block]


class RecordFormatter:
    """Shows a snapshot record (a party, a promise, the operation) with French labels.

    Has the interface of ``ItemFormatter`` that ``items_diff`` uses.
    """

    def __init__(self, labels: dict, name):
        self.labels = labels
        self._name = name

    def label(self, name: str) -> str:
        return str(self.labels.get(name, name))

    def value(self, _name: str, value) -> str:
        return "" if value in (None, "", []) else str(value)

    def name(self, item: dict) -> str:
        return self._name(item)

    def fields(self, item: dict) -> list[tuple[str, str]]:
        return [(self.label(n), self.value(n, item[n])) for n in self.labels if n in item]


def _day(value: str | None) -> str:
    if not value:
        return ""
    try:
        return format_date(date.fromisoformat(value[:10]), "d MMMM y")
    except ValueError:
        return value


def _funding(value: str | None) -> str:
    try:
        return Funding(value).title
    except ValueError:
        return value or ""


def operation_record(operation: dict) -> dict:
    """The operation's details as shown to a reader (dates in French, lot by name)."""
    lot = operation.get("lot")
    record = {name: operation.get(name) for name in OPERATION_LABELS}
    record.update(
        id=operation.get("id"),
        funding=_funding(operation.get("funding")),
        lot=f"{lot['number']} « {lot['title']} »" if lot else "",
        session_start=_day(operation.get("session_start")),
        session_end=_day(operation.get("session_end")),
    )
    return record


def _party_record(party: dict) -> dict:
    return {"id": party["organisation_id"], **{n: party.get(n) for n in PARTY_LABELS}}


def promise_record(promise: dict) -> dict:
    """A job promise as shown to a reader."""
    record = {n: promise.get(n) for n in PROMISE_LABELS}
    record.update(id=promise["position_id"], planned_start=_day(promise.get("planned_start")))
    record["lasting"] = promise_is_lasting(promise)
    return record


def _operation_blocks(old: dict, new: dict, **_snapshots) -> list[Block]:
    formatter = RecordFormatter(OPERATION_LABELS, lambda item: str(item.get("title") or "—"))
    changes = items_diff([operation_record(old)], [operation_record(new)], formatter)
    return [Block(str(PART_TITLES["operation"]), items=changes)]


def _parties_blocks(old: list, new: list, **_snapshots) -> list[Block]:
    formatter = RecordFormatter(PARTY_LABELS, lambda item: str(item.get("name") or "—"))
    changes = items_diff(
        [_party_record(p) for p in old or []], [_party_record(p) for p in new or []], formatter
    )
    return [Block(str(PART_TITLES["parties"]), items=changes)]


def _mention_record(entry: dict) -> dict:
    ident = "-".join(str(i) for i in [entry["user_id"], *entry["organisation_ids"]])
    return {"id": ident, "text": entry["text"]}


def _dual_memberships_blocks(old: list, new: list, **_snapshots) -> list[Block]:
    formatter = RecordFormatter(MENTION_LABELS, lambda item: str(item.get("text") or "—"))
    changes = items_diff(
        [_mention_record(e) for e in old or []], [_mention_record(e) for e in new or []], formatter
    )
    return [Block(str(PART_TITLES["dual_memberships"]), items=changes)]


def _promises_blocks(old: list, new: list, **_snapshots) -> list[Block]:
    formatter = RecordFormatter(
        PROMISE_LABELS, lambda item: f"{item.get('job_title') or '—'} — {item.get('employer')}"
    )
    changes = items_diff(
        [promise_record(p) for p in old or []], [promise_record(p) for p in new or []], formatter
    )
    return [Block(str(PART_TITLES["promises"]), items=changes)]


def organisation_names(*snapshots: dict) -> dict[int, str]:
    """Organisation id → name, from the parties and promises of the snapshots."""
    names = {}
    for snapshot in snapshots:
        names.update((p["organisation_id"], p["name"]) for p in snapshot.get("parties", []))
        names.update((p["employer_id"], p["employer"]) for p in snapshot.get("promises", []))
    return names


def skill_labels(*snapshots: dict) -> dict[str, str]:
    """Skill id → label, from the design sections of the snapshots."""
    labels = {}
    for snapshot in snapshots:
        for section in snapshot.get("design", []):
            if section["key"] == SectionKey.SKILLS.value:
                items = section["content"].get("items", [])
                labels.update((s.get("id"), s.get("label", "")) for s in items)
    return labels


def item_formatter(key: str, *snapshots: dict) -> ItemFormatter | None:
    """The formatter of a list section of the design, or None for a text section."""
    try:
        section_key = SectionKey(key)
    except ValueError:
        return None
    if not section_key.is_list:
        return None
    return ItemFormatter(section_key, organisation_names(*snapshots), skill_labels(*snapshots))


def _sections_blocks(old: list, new: list, *, old_snapshot: dict, new_snapshot: dict):
    before = {s["key"]: s for s in old or []}
    after = {s["key"]: s for s in new or []}
    keys = [s["key"] for s in new or []] + [k for k in before if k not in after]
    blocks = []
    for key in keys:
        was, now = before.get(key), after.get(key)
        if was is not None and now is not None and was["content"] == now["content"]:
            continue
        title = (now or was)["title"]
        was_content = was["content"] if was else {}
        now_content = now["content"] if now else {}
        formatter = item_formatter(key, old_snapshot, new_snapshot)
        if formatter is not None:
            changes = items_diff(
                was_content.get("items", []), now_content.get("items", []), formatter
            )
            blocks.append(Block(title, items=changes))
        else:
            chunks = text_diff(was_content.get("text") or "", now_content.get("text") or "")
            blocks.append(Block(title, chunks=chunks))
    return blocks


BUILDERS = {
    "operation": _operation_blocks,
    "parties": _parties_blocks,
    "dual_memberships": _dual_memberships_blocks,
    "promises": _promises_blocks,
    "clauses": _sections_blocks,
    "design": _sections_blocks,
}


def snapshot_diff(old: dict, new: dict) -> list[PartDiff]:
    """What changed from the ``old`` snapshot to the ``new`` one, part by part.

    Parts and blocks without a visible difference are left out.
    """
    parts = []
    for part in changed_parts(old, new):
        blocks = BUILDERS[part](old.get(part), new.get(part), old_snapshot=old, new_snapshot=new)
        blocks = [block for block in blocks if not block.empty]
        if blocks:
            parts.append(PartDiff(part, str(PART_TITLES[part]), blocks))
    return parts


def part_titles(parts: list[str]) -> list[str]:
    """French names of the parts ``changes_since`` returns."""
    return [str(PART_TITLES.get(part, part)) for part in parts]
