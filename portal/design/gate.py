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

from sqlalchemy import and_, event, exists, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from portal.core.locking import holds, lock_where
from portal.design.models import Design, DesignComment, DesignSection, SectionKey
from portal.design.rhythm import hours_issues
from portal.design.services import design_problems, gate_designs, is_filled
from portal.operations.models import Operation

# What ``hours_issues`` reads of the operation, and of the sections.
OPERATION_FIELDS = ("session_start", "session_end", "hours_centre", "hours_company")
SECTION_FIELDS = ("key", "content")
# session.info key: the operations whose dates or hours the flush under way changes, and
# their designs, locked before it (operation id -> design id).
_OPERATIONS_DESIGNS = "design.gate.operations_designs"
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
    hours); the operations whose dates or hours changed (their designs are concerned)."""

    designs: set[int] = field(default_factory=set)
    listed: set[int] = field(default_factory=set)
    hours: set[int] = field(default_factory=set)
    operations: set[int] = field(default_factory=set)


def touched_designs(session: Session, objects) -> Touched:
    """What the flush of ``objects`` (added, changed or deleted) may change of the gate
    (read from the objects' history, without a query)."""
    touched = Touched()
    for obj in objects:
        if isinstance(obj, Design):
            if obj in session.new:  # its own fields are not the gate's
                touched.designs.add(obj.id)
                touched.listed.add(obj.id)
        elif isinstance(obj, DesignSection):
            state = inspect(obj)
            history = state.attrs.design_id.history
            keys = {obj.key, *state.attrs.key.history.deleted}
            moved = obj in session.new or obj in session.deleted or history.deleted
            # a validation (its date, who) is not the gate's: only the key and the content
            read = moved or any(state.attrs[name].history.has_changes() for name in SECTION_FIELDS)
            if read and keys & set(SectionKey.design_keys()):
                ids = {i for i in (obj.design_id, *history.deleted) if i is not None}
                touched.designs |= ids
                if moved:
                    touched.listed |= ids
                if keys & set(HOURS_SECTIONS):
                    touched.hours |= ids
        elif isinstance(obj, Operation) and obj.id is not None:
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in OPERATION_FIELDS):
                touched.operations.add(obj.id)
    return touched


def _operations_changed(session: Session) -> list[int]:
    return sorted(
        obj.id
        for obj in session.dirty
        if isinstance(obj, Operation)
        and obj.id is not None
        and any(inspect(obj).attrs[name].history.has_changes() for name in OPERATION_FIELDS)
    )


@event.listens_for(Session, "before_flush")
def _lock_before_operations(session: Session, _flush_context, _instances) -> None:
    """Lock the designs of the operations whose dates or hours this flush changes, before
    the flush writes (and so locks) the operations' rows: the design first, as everywhere
    (``core/locking.py``). Locked after the operation, the design would wait for a
    convention's validation that holds it and waits for that operation: a deadlock."""
    session.info.pop(_OPERATIONS_DESIGNS, None)
    operations = _operations_changed(session)
    if operations:
        rows = lock_where(session, Design, Design.operation_id.in_(operations), Design.operation_id)
        designs = {row.operation_id: row.id for row in rows}
        session.info[_OPERATIONS_DESIGNS] = (set(operations), designs)


def _lock(session: Session, touched: Touched) -> set[int]:
    """Lock the designs ``touched`` concerns that this transaction has not locked yet (nor
    added), in id order, in one statement, and find those of its operations (locked before
    the flush); the designs ``lock()`` held before, whose objects in the session may be
    trusted — every other is read afresh, after its lock.

    Concurrent writers of the gate's inputs — a section's save (its section, then its
    design, through ``lock()``), an operation's edit (its design, then the operation's row)
    — each hold the design before this reads the inputs: the last to recompute has read
    what the others committed, and the verdict it stores holds for both (issue #16)."""
    checked, by_operation = session.info.pop(_OPERATIONS_DESIGNS, (set(), {}))
    for operation_id in touched.operations & by_operation.keys():
        touched.designs.add(by_operation[operation_id])
        touched.hours.add(by_operation[operation_id])
    missed = sorted(touched.operations - checked)  # not seen before the flush: a safety net
    new = {obj.id for obj in session.new if isinstance(obj, Design)}  # no one else sees them
    held = {i for i in touched.designs if holds(session, Design, i, read_since=True)}
    to_lock = sorted(i for i in touched.designs - new if not holds(session, Design, i))
    conditions = []
    if to_lock:
        conditions.append(Design.id.in_(to_lock))
    if missed:
        conditions.append(Design.operation_id.in_(missed))
    if conditions:
        for row in lock_where(session, Design, or_(*conditions), Design.operation_id):
            touched.designs.add(row.id)
            if row.operation_id in touched.operations:
                touched.hours.add(row.id)
    return held


def _in_memory(session: Session, design_id: int, hours_changed: bool) -> bool | None:
    """The verdict of a design this session holds with its sections (a section saved on its
    page), decided without a query where it can be; None when it cannot. Only for a design
    ``lock()`` took in this transaction: what the session holds was read under its lock."""
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
    transaction, each design locked before its inputs are read: a read that follows,
    committed or not, sees it."""
    changed = [
        obj
        for obj in (*session.new, *session.deleted, *session.dirty)
        if isinstance(obj, (Design, DesignSection, Operation))
        and (obj in session.new or obj in session.deleted or session.is_modified(obj))
    ]
    if not changed:
        return
    touched = touched_designs(session, changed)
    held = _lock(session, touched)
    to_read = []
    for design_id in sorted(touched.designs):
        met = None
        if design_id in held and design_id not in touched.listed:
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
