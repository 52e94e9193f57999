"""What a validated version puts in force: the design, the parties and the promises.

After co-design the design, the parties and the promises stay editable: what they say is
the draft of the next version (``design/drafts.py``, ``operations/pending.py``), and the
version the Région validated stays in force until an amendment carrying the change is
validated. Validating a version therefore applies what its frozen text says, never what
the draft says by then (a change made after submission waits for the next amendment):

- the design sections it froze become the design in force;
- parties joining or leaving, positions promised or withdrawn, apply when it names them;
- while the operation runs, the job promises follow (``recruitment/promises.py``).

``lock_design`` is called by ``decisions.validate`` before its other locks and its first
audit record: a save of the design holds its section and the design, then inserts an
event whose foreign key waits for the operation's row, so the design comes first (design,
operation, convention, version; proven in tests/conventions/test_amendment_races.py).
"""

from portal.accounts.models import Organisation, User
from portal.conventions.models import ConventionVersion
from portal.conventions.state import snapshot_of, valid_signatures
from portal.core.locking import lock
from portal.design import drafts
from portal.design.models import Design
from portal.design.services import design_for
from portal.operations import pending
from portal.operations.models import AMENDMENT_STEPS, Operation
from portal.recruitment.promises import create_promises


def lock_design(operation: Operation) -> Design | None:
    """Lock the operation's design, whose version in force is about to change."""
    design = design_for(operation)
    return lock(design) if design is not None else None


def put_in_force(
    version: ConventionVersion, design: Design | None, *, by: User, org: Organisation
) -> list[str]:
    """Apply what the validated ``version`` says; returns the promises' French warnings
    (a withdrawn promise a trainee is still matched to is kept)."""
    snapshot = snapshot_of(version)
    operation = version.convention.operation
    if operation.convention_in_force_since is None:
        operation.convention_in_force_since = version.validated_at
    if design is not None:
        drafts.put_in_force(
            design,
            {section["key"]: section["content"] for section in snapshot["design"]},
            number=version.number,
            signed_at=max((s.signed_at for s in valid_signatures(version)), default=None),
        )
    applied = pending.apply_changes(
        operation,
        parties={party["organisation_id"] for party in snapshot["parties"]},
        positions={promise["position_id"] for promise in snapshot["promises"]},
        by=by,
        org=org,
    )
    if operation.status in AMENDMENT_STEPS and any(applied.values()):
        return create_promises(operation, by=by, org=org)
    return []
