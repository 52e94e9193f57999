"""Properties of the frozen convention (hypothesis).

- Any change to what the convention says (a clause, a party, a promise, the design it
  quotes, the session dates) gives another canonical text, hence another SHA-256, and
  ``changed_parts`` names the part that changed.
- The same content always gives the same bytes, whatever the order in which its keys
  were built, and survives the round trip through the database's text column.
- On the database: after such a change, submitting gives a new version on which no
  signature is valid, and the previous version's signatures are voided.

The first two run on in-memory copies of a real snapshot (fast, many examples); the
third builds the operation for each example and rolls it back (slow, few examples).
"""

import copy
import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.conventions import services
from portal.conventions.models import Signature, VersionStatus
from portal.conventions.snapshot import OPTIONAL_PARTS, PARTS, canonical, changed_parts, digest
from portal.design.models import DesignSection, SectionKey
from portal.extensions import db
from portal.operations import services as operations
from portal.operations.models import ContractType, ParticipantRole, Position
from tests.conventions.factories import make_convention_ready, sign_as
from tests.support import examples

# The suite's autouse database cleanup is function-scoped; examples here either do not
# touch the database or roll back their own rows, so sharing it across examples is safe.
IN_MEMORY = settings(
    max_examples=examples(50),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
ON_DATABASE = settings(
    max_examples=examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
)


@pytest.fixture(scope="module")
def snapshot(app) -> dict:
    """A real snapshot: four parties, two promises, every clause and design section."""
    with app.test_request_context():
        ready = make_convention_ready(second_employer=True)
        content = services.current_snapshot(ready.convention)
        db.session.rollback()
    return content


# --- In memory: mutations ---------------------------------------------------------------


def _other(draw, strategy, old):
    return draw(strategy.filter(lambda value: value != old))


@st.composite
def mutations(draw, snapshot: dict) -> tuple[dict, str, str]:
    """A copy of ``snapshot`` with one change; returns it, the part changed and the kind."""
    changed = copy.deepcopy(snapshot)
    kind = draw(
        st.sampled_from(
            [
                "clause",
                "party_added",
                "party_removed",
                "party_renamed",
                "promise_count",
                "promise_contract",
                "promise_title",
                "design",
                "session_start",
                "session_end",
                "cumul_approved",
            ]
        )
    )
    pick = st.integers(min_value=0)
    if kind == "cumul_approved":  # issue #11 M6: the Région approves a person in two parties
        changed.setdefault("dual_memberships", []).append(
            {
                "user_id": draw(st.integers(1, 10**6)),
                "person": draw(TEXT),
                "organisation_ids": [1, 2],
                "organisations": [draw(TEXT), draw(TEXT)],
                "approved_on": "2027-03-03",
                "text": draw(TEXT),
            }
        )
        return changed, "dual_memberships", kind
    if kind == "clause":
        clause = changed["clauses"][draw(pick) % len(changed["clauses"])]
        clause["content"]["text"] = _other(draw, TEXT, clause["content"]["text"])
        return changed, "clauses", kind
    if kind.startswith("party"):
        parties = changed["parties"]
        if kind == "party_added":
            parties.append(
                {
                    "organisation_id": draw(st.integers(1000, 10**6)),
                    "name": draw(TEXT),
                    "siret": "",
                    "city": "",
                    "role": "employer",
                    "role_title": "Employeur",
                    "signs": True,
                }
            )
        elif kind == "party_removed":
            del parties[draw(pick) % len(parties)]
        else:
            party = parties[draw(pick) % len(parties)]
            party["name"] = _other(draw, TEXT, party["name"])
        return changed, "parties", kind
    if kind.startswith("promise"):
        promise = changed["promises"][draw(pick) % len(changed["promises"])]
        if kind == "promise_count":
            promise["count"] = _other(draw, st.integers(1, 99), promise["count"])
        elif kind == "promise_contract":
            contracts = st.sampled_from([c.value for c in ContractType])
            promise["contract_type"] = _other(draw, contracts, promise["contract_type"])
        else:
            promise["job_title"] = _other(draw, TEXT, promise["job_title"])
        return changed, "promises", kind
    if kind == "design":
        section = changed["design"][draw(pick) % len(changed["design"])]
        if "items" in section["content"] and section["content"]["items"]:
            item = section["content"]["items"][0]
            key = draw(st.sampled_from(sorted(item)))
            item[key] = _other(draw, st.one_of(TEXT, st.integers(), st.none()), item[key])
        else:
            section["content"] = {"text": _other(draw, TEXT, section["content"].get("text"))}
        return changed, "design", kind
    field = kind  # session_start, session_end
    old = date.fromisoformat(changed["operation"][field])
    shift = draw(st.integers(-400, 400).filter(bool))
    changed["operation"][field] = (old + timedelta(days=shift)).isoformat()
    return changed, "operation", kind


@given(data=st.data())
@IN_MEMORY
def test_any_change_gives_another_hash_and_names_its_part(snapshot, data):
    changed, part, _kind = data.draw(mutations(snapshot))
    assert canonical(changed) != canonical(snapshot)
    assert digest(canonical(changed)) != digest(canonical(snapshot))
    assert changed_parts(snapshot, changed) == [part]


def _shuffled(value, rnd):
    """The same content with every dict's keys inserted in another order."""
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        return {key: _shuffled(value[key], rnd) for key in keys}
    if isinstance(value, list):
        return [_shuffled(item, rnd) for item in value]
    return value


@given(rnd=st.randoms(use_true_random=False))
@IN_MEMORY
def test_the_same_content_gives_the_same_bytes(snapshot, rnd):
    text = canonical(snapshot)
    assert canonical(_shuffled(snapshot, rnd)) == text
    assert canonical(json.loads(text)) == text  # what the text column gives back
    assert changed_parts(snapshot, _shuffled(snapshot, rnd)) == []


def test_the_snapshot_covers_every_part(snapshot):
    assert set(PARTS) - set(OPTIONAL_PARTS) <= set(snapshot)
    assert not set(OPTIONAL_PARTS) & set(snapshot)  # nothing to say: no key, the same hash
    assert len(snapshot["parties"]) == 5 and len(snapshot["promises"]) == 2
    assert {p["role"] for p in snapshot["parties"]} == {
        "region",
        "provider",
        "employer",
        "partner_employment",
    }


# --- On the database: a change means a new version without any valid signature ----------

KINDS = [
    "clause",
    "party_added",
    "party_removed",
    "promise_count",
    "promise_contract",
    "promise_title",
    "design",
    "session_dates",
]


def _change(ready, kind: str, data) -> None:
    """Apply one change of ``kind`` to what the convention of ``ready`` says."""
    market, operation = ready.market, ready.operation
    user, org = ready.carrier
    if kind == "clause":
        key = data.draw(st.sampled_from(SectionKey.clause_keys()))
        old = ready.clause(key).content["text"]
        ready.edit_clause(data.draw(TEXT.filter(lambda t: t.strip() and t != old)), key)
    elif kind == "party_added":
        operations.add_participant(
            operation, market.employer2, ParticipantRole.EMPLOYER, by=user, org=org
        )
        services.designate_signer(
            ready.convention, market.employer2, market.employer2_user, "présidente",
            by=market.employer2_user, by_org=market.employer2,
        )  # fmt: skip
    elif kind == "party_removed":
        [partner] = [p for p in operation.participants if p.organisation_id == market.partner.id]
        operations.withdraw_participant(partner, reason="Se retire", by=user, org=org)
    elif kind.startswith("promise"):
        position = db.session.scalars(db.select(Position)).first()
        if kind == "promise_count":
            position.count = data.draw(st.integers(1, 20).filter(lambda n: n != position.count))
        elif kind == "promise_contract":
            others = [c for c in ContractType if c != position.contract_type]
            position.contract_type = data.draw(st.sampled_from(others))
        else:
            old = position.job_title
            position.job_title = data.draw(TEXT.filter(lambda t: t != old))
    elif kind == "design":
        # The design is closed after co-design; what it quotes is still part of the
        # convention, so a change there (however it happens) must show in the hash.
        section = db.session.scalars(
            db.select(DesignSection).where(DesignSection.key == SectionKey.PEDAGOGY)
        ).one()
        old = section.content["text"]
        section.content = {"text": data.draw(TEXT.filter(lambda t: t != old))}
    else:
        days = data.draw(st.integers(1, 60))
        operation.session_start += timedelta(days=days)
        operation.session_end += timedelta(days=days)
    db.session.flush()


@given(kind=st.sampled_from(KINDS), data=st.data())
@ON_DATABASE
def test_after_any_change_the_new_version_has_no_valid_signature(ctx, kind, data):
    try:
        ready = make_convention_ready()
        market = ready.market
        first = ready.submit()
        sign_as(first, market.a_user, market.of_a)
        sign_as(first, market.employer_user, market.employer)
        assert services.submission_problems(ready.convention)[0].startswith("Rien n'a changé")

        _change(ready, kind, data)

        assert services.changes_since(ready.convention, first) != []
        assert services.submission_problems(ready.convention) == []
        second = ready.submit()
        assert second.sha256 != first.sha256
        assert second.status == VersionStatus.TO_SIGN
        assert services.valid_signatures(second) == []
        assert all(s.voided_at is not None for s in first.signatures)
        assert len(first.signatures) == 2
        # A signature only ever holds for the hash it was given on.
        signatures = db.session.scalars(db.select(Signature)).all()
        assert {s.version_sha256 for s in signatures} == {first.sha256}
        assert services.signing_problems(first, market.employer_user, market.employer)
    finally:
        db.session.rollback()


@given(data=st.data())
@settings(ON_DATABASE, max_examples=examples(6))
def test_a_change_undone_gives_back_the_same_bytes(ctx, data):
    try:
        ready = make_convention_ready()
        before = canonical(services.current_snapshot(ready.convention))
        key = data.draw(st.sampled_from(SectionKey.clause_keys()))
        original = ready.clause(key).content["text"]
        ready.edit_clause(data.draw(TEXT.filter(lambda t: t.strip() and t != original)), key)
        assert canonical(services.current_snapshot(ready.convention)) != before
        ready.edit_clause(original, key)
        assert canonical(services.current_snapshot(ready.convention)) == before
    finally:
        db.session.rollback()
