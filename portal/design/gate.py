"""Whether a co-design meets the gate to the convention but for its blocking threads,
kept in ``designs.gate_met`` (issue #16).

The Région's « À faire » lists the designs it may approve over every operation: at 10,000
operations, about a thousand wait in co-design, and checking each one's rhythm in Python
(``design_problems``) read every section of every one of them on each home page. The
verdict — started, mandatory sections filled, the rhythm's hours consistent — depends only
on the design's sections and on its operation's session dates and planned hours, so it is
kept where those change: every flush that adds, changes or deletes a design section, adds a
design or changes those fields of an operation recomputes the verdict of the designs
concerned (``after_flush``), with ``design_problems`` itself, on the rows as flushed. The
blocking threads stay a SQL condition (``may_pass_sql``), read when asked: a thread opened
or resolved changes nothing here. Listening to the session rather than calling this from
each service means no service can forget it; the bulk copies of the benchmarks and the
tests copy the column with the rows they copy. ``tests/design/test_gate_kept.py`` holds
the column equal to ``design_problems`` after the services' writes and over the demo.
"""

from dataclasses import dataclass, field

from sqlalchemy import and_, event, exists, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from portal.design.models import Design, DesignComment, DesignSection, SectionKey
from portal.design.rhythm import hours_issues
from portal.design.services import design_problems, gate_designs, is_filled
from portal.operations.models import Operation

# What ``hours_issues`` reads of the operation, and of the sections.
OPERATION_FIELDS = ("session_start", "session_end", "hours_centre", "hours_company")
HOURS_SECTIONS = (SectionKey.RHYTHM, SectionKey.MODULES)


def approvable_sql():
    """A condition on a ``Design`` row, exactly ``not design_problems(design,
    include_approval=False)``: the kept verdict, and no blocking thread open."""
    return and_(
        Design.gate_met.is_(True),
        ~exists().where(
            DesignSection.design_id == Design.id,
            DesignComment.section_id == DesignSection.id,
            DesignSection.meeting_id.is_(None),
            DesignComment.blocking.is_(True),
            DesignComment.resolved_at.is_(None),
        ),
    )


def _met(design) -> bool:
    # A design being started gets its sections one flush at a time: until it has them
    # all, it cannot pass (and ``design_problems`` would look for the rhythm in vain).
    if {s.key for s in design.sections} < set(SectionKey.design_keys()):
        return False
    return not design_problems(design, include_approval=False, blocking=0)


def verdicts(connection, design_ids) -> dict[int, tuple[bool, bool]]:
    """(stored, computed) verdict but for blocking threads of each design of
    ``design_ids`` (a list or a ``select`` of ids), read as plain rows (one query)."""
    return {d.id: (d.gate_met, _met(d)) for d in gate_designs(design_ids, connection)}


def refresh(session_or_connection, design_ids) -> None:
    """Store the verdict of each design of ``design_ids`` where it changed (two
    ``UPDATE``s at most)."""
    connection = (
        session_or_connection.connection()
        if isinstance(session_or_connection, Session)
        else session_or_connection
    )
    read = verdicts(connection, design_ids)
    found = {i: met for i, (_stored, met) in read.items()}
    for value in (True, False):
        _store(
            connection,
            [i for i, (stored, met) in read.items() if met is value and stored is not met],
            value,
        )
    if isinstance(session_or_connection, Session):
        # the designs already read in this session see the stored value, not a stale one
        for obj in session_or_connection.identity_map.values():
            if isinstance(obj, Design) and obj.id in found:
                set_committed_value(obj, "gate_met", found[obj.id])


def _store(connection, design_ids: list[int], value: bool) -> None:
    ids = sorted(design_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        connection.execute(update(Design).where(Design.id.in_(chunk)).values(gate_met=value))


def refresh_all(connection) -> None:
    """Recompute every design's verdict (the migration's backfill)."""
    refresh(connection, select(Design.id))


@dataclass
class Touched:
    """What a flush changed of the gate's inputs: the designs concerned; those whose list
    of sections may have changed (a section added, deleted or moved, a design added); those
    whose rhythm's inputs changed (the rhythm, the modules, the operation's dates or
    hours)."""

    designs: set[int] = field(default_factory=set)
    listed: set[int] = field(default_factory=set)
    hours: set[int] = field(default_factory=set)


def touched_designs(session: Session, objects) -> Touched:
    """What the flush of ``objects`` (added, changed or deleted) may change of the gate."""
    touched = Touched()
    operations: set[int] = set()
    for obj in objects:
        if isinstance(obj, Design):
            if obj in session.new:  # its own fields are not the gate's
                touched.designs.add(obj.id)
                touched.listed.add(obj.id)
        elif isinstance(obj, DesignSection):
            state = inspect(obj)
            history = state.attrs.design_id.history
            keys = {obj.key, *state.attrs.key.history.deleted}
            if keys & set(SectionKey.design_keys()):
                ids = {i for i in (obj.design_id, *history.deleted) if i is not None}
                touched.designs |= ids
                if obj in session.new or obj in session.deleted or history.deleted:
                    touched.listed |= ids
                if keys & set(HOURS_SECTIONS):
                    touched.hours |= ids
        elif isinstance(obj, Operation) and obj.id is not None:
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in OPERATION_FIELDS):
                operations.add(obj.id)
    if operations:
        ids = set(
            session.connection().scalars(
                select(Design.id).where(Design.operation_id.in_(sorted(operations)))
            )
        )
        touched.designs |= ids
        touched.hours |= ids
    return touched


def _in_memory(session: Session, design_id: int, hours_changed: bool) -> bool | None:
    """The verdict of a design this session holds with its sections (a section saved on its
    page), decided without a query where it can be; None when it cannot."""
    design = session.identity_map.get(identity_key(Design, design_id))
    if design is None or inspect(design).unloaded & {"sections", "gate_met", "operation_id"}:
        return None
    if any(inspect(s).unloaded & {"key", "content"} for s in design.sections):
        return None
    keys = {s.key for s in design.sections}
    if keys < set(SectionKey.design_keys()) or any(
        s.key.mandatory and not is_filled(s) for s in design.sections
    ):
        return False
    if design.gate_met and not hours_changed:
        return True  # its rhythm was consistent and nothing it reads changed
    # ``design.operation`` is found in the identity map, without a query, when loaded
    operation = session.identity_map.get(identity_key(Operation, design.operation_id))
    if operation is None or inspect(operation).unloaded & set(OPERATION_FIELDS):
        return None
    return not hours_issues(design)


@event.listens_for(Session, "after_flush")
def _keep_gate(session: Session, _flush_context) -> None:
    """Recompute the verdict of the designs this flush may change, within the flush's
    transaction: a read that follows, committed or not, sees it."""
    changed = [
        obj
        for obj in (*session.new, *session.deleted, *session.dirty)
        if isinstance(obj, (Design, DesignSection, Operation))
        and (obj in session.new or obj in session.deleted or session.is_modified(obj))
    ]
    if not changed:
        return
    touched = touched_designs(session, changed)
    to_read = []
    for design_id in sorted(touched.designs):
        met = None
        if design_id not in touched.listed:
            met = _in_memory(session, design_id, design_id in touched.hours)
        if met is None:
            to_read.append(design_id)
            continue
        design = session.identity_map.get(identity_key(Design, design_id))
        if met is not design.gate_met:
            _store(session.connection(), [design_id], met)
            set_committed_value(design, "gate_met", met)
    if to_read:
        refresh(session, to_read)
