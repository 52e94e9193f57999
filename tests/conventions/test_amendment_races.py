"""Issue #12 §3: validating an amendment while its draft is edited, served at once.

Validating takes the operation's, the convention's, the version's and then the design's
lock before its first audit record; a save takes its section's then the design's; a
change to the parties or the promises takes the operation's. Raced in threads (each with
its own context, session and connection) on the run's database, SQLite or PostgreSQL:
nothing deadlocks or fails, and the state is what some order of the same requests gives —
the version in force says what the amendment froze, the edits made at the same time stay
in the draft, pending.
"""

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.conventions import services
from portal.conventions.models import ConventionVersion, VersionStatus
from portal.design import services as design_services
from portal.design.models import Design, SectionKey
from portal.extensions import db
from portal.operations import needs
from portal.operations import services as operations
from portal.operations.models import (
    ContractType,
    Operation,
    Participant,
    ParticipantRole,
    PendingChange,
    Position,
)
from portal.recruitment.models import JobPromise
from tests.conventions.factories import in_force, make_convention_ready, sign_as
from tests.design.concurrency_helpers import BASE_URL, acting, race

PROMISE = {"job_title": "Agent·e de propreté", "count": 1, "contract_type": ContractType.CDI}
AMENDED = "Accueil et sécurité (avenant)"
RACED = "Accueil et sécurité, relu pendant la validation"


def _signed_amendment(app) -> dict:
    """Version 1 in force (recruiting); version 2 signed by every party: it relabels the
    first period of the rhythm and brings in Entreprise F with one promise. Committed."""
    with app.test_request_context(base_url=BASE_URL):
        ready = in_force(make_convention_ready())
        market, operation = ready.market, ready.operation
        carrier = ready.carrier
        items = [dict(i) for i in ready.design.section(SectionKey.RHYTHM).content["items"]]
        items[0]["label"] = AMENDED
        section = ready.design.section(SectionKey.RHYTHM)
        design_services.save_section(
            section,
            {"items": items},
            base_version=section.version,
            by=carrier[0],
            org=carrier[1],
            steering=True,
        )
        operations.add_participant(
            operation, market.employer2, ParticipantRole.EMPLOYER, by=carrier[0], org=carrier[1]
        )
        f_user, f_org = market.employer2_user, market.employer2
        needs.add_position(needs.need_for(operation, f_org), PROMISE, by=f_user, org=f_org)
        services.designate_signer(
            ready.convention, f_org, f_user, "présidente", by=f_user, by_org=f_org
        )
        version = ready.submit()
        for party in services.pending_parties(version):
            designation = services.signer_for(ready.convention, party["organisation_id"])
            sign_as(version, designation.user, designation.organisation)
        (e_position,) = needs.need_for(operation, market.employer).positions
        ids = {
            "operation": operation.id,
            "version": version.id,
            "region": (market.referent.id, market.region.id),
            "carrier": (carrier[0].id, carrier[1].id),
            "employer": (market.employer_user.id, market.employer.id),
            "employer2": (f_user.id, f_org.id),
            "e_position": e_position.id,
            "partner": next(
                p.id for p in operation.participants if p.organisation_id == market.partner.id
            ),
        }
        db.session.commit()
        db.session.remove()
    return ids


def _validate(ids):
    def work():
        version = db.session.get(ConventionVersion, ids["version"])
        services.validate(version, **acting(ids["region"]))

    return work


def _rhythm_section(operation_id: int):
    design = db.session.scalar(select(Design).where(Design.operation_id == operation_id))
    return design, design.section(SectionKey.RHYTHM)


def test_validating_an_amendment_while_the_rhythm_is_edited(app):
    """The save lands in the draft; the version in force is what the amendment froze."""
    ids = _signed_amendment(app)

    def save():
        _design, section = _rhythm_section(ids["operation"])
        items = [dict(i) for i in section.content["items"]]
        items[0]["label"] = RACED
        design_services.save_section(
            section,
            {"items": items},
            base_version=section.version,
            steering=True,
            **acting(ids["carrier"]),
        )

    outcomes = race(app, _validate(ids), save)
    assert outcomes == ["done", "done"]
    with app.app_context():
        design, section = _rhythm_section(ids["operation"])
        assert design.in_force_number == 2
        assert design.in_force["rhythm"]["items"][0]["label"] == AMENDED
        assert section.content["items"][0]["label"] == RACED
        db.session.remove()


def test_validating_an_amendment_while_parties_and_promises_change(app):
    """Changes made at the same moment are no part of the amendment: whatever the order,
    they wait for the next one; what the amendment carries applies once."""
    ids = _signed_amendment(app)

    def withdraw_partner():
        partner = db.session.get(Participant, ids["partner"])
        operations.withdraw_participant(partner, reason="Fin", **acting(ids["carrier"]))

    def withdraw_position():
        position = db.session.get(Position, ids["e_position"])
        needs.remove_position(position, **acting(ids["employer"]))

    def promise_more():
        who = acting(ids["employer2"])
        operation = db.session.get(Operation, ids["operation"])
        needs.add_position(needs.need_for(operation, who["org"]), PROMISE, **who)

    outcomes = race(
        app, _validate(ids), withdraw_partner, withdraw_position, promise_more, _validate(ids)
    )
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes[1:4] == ["done", "done", "done"]
    assert sorted([outcomes[0], outcomes[4]]) == [
        "done",
        "refused: La Région valide une version signée par toutes les parties (ici : Validée "
        "par la Région).",
    ]
    with app.app_context():
        assert db.session.get(ConventionVersion, ids["version"]).status == VersionStatus.VALIDATED
        partner = db.session.get(Participant, ids["partner"])
        assert partner.pending_change == PendingChange.WITHDRAW and partner.withdrawn_at is None
        assert db.session.get(Position, ids["e_position"]).is_leaving
        operation = db.session.get(Operation, ids["operation"])
        f_participant = next(
            p for p in operation.participants if p.organisation_id == ids["employer2"][1]
        )
        assert f_participant.pending_change is None  # joined with the amendment
        f_positions = db.session.scalars(
            select(Position)
            .join(Position.need)
            .where(Position.need.has(organisation_id=ids["employer2"][1]))
            .order_by(Position.id)
        ).all()
        assert [p.pending_change for p in f_positions] == [None, PendingChange.ADD]
        promised = db.session.scalars(
            select(JobPromise.position_id).where(JobPromise.organisation_id == ids["employer2"][1])
        ).all()
        assert promised == [f_positions[0].id]
        applied = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "operation.amendment_applied")
        ).all()
        assert len(applied) == 1
        db.session.remove()
