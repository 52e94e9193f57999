"""Factories for convention tests: an operation at the convention step, ready to submit.

Usage (inside an app context, e.g. the ``ctx`` fixture)::

    from tests.conventions.factories import make_convention_ready, sign_all, submit_version

    ready = make_convention_ready()            # builds its own Market
    version = submit_version(ready)            # version 1, « à signer »
    sign_all(ready, version)                   # every party signs → « signée »
    ready.validate(version)                    # the Région validates → « validée »
    in_force(ready)                            # … or all of that, then recruitment

``ready.market`` is the ``tests.operations.factories.Market`` (Région, OF A, OF B,
Entreprise E, Entreprise F, Partenaire P and their admins); the parties of the
convention are the Région (validates), Organisme A (porteur), Entreprise E (3 CDI) and,
with ``partner=True``, Partenaire P; with ``second_employer=True`` Entreprise F (2 CDD)
too. Every signing party has a designated signer (its admin) unless ``designate=False``.
Nothing is committed: commit yourself if another session or a client must see the rows.
"""

from dataclasses import dataclass, field
from datetime import date

from portal.accounts.models import Organisation, User
from portal.conventions import services as conventions
from portal.conventions.models import Convention, ConventionVersion, Signature
from portal.design import services as design_services
from portal.design.models import Design, SectionKey
from portal.extensions import db
from portal.operations import lifecycle, needs
from portal.operations import services as operations
from portal.operations.models import ContractType, Operation, ParticipantRole, Status
from tests.operations.factories import Market
from tests.support import copy_rows_or_build

SESSION = (date(2027, 1, 4), date(2027, 6, 25))
EVIDENCE = conventions.Evidence(ip="192.0.2.10", user_agent="pytest-browser/1.0")
CAPACITIES = {
    "provider": "directrice",
    "employer": "gérant",
    "employer2": "présidente",
    "partner": "directeur d'agence",
}


@dataclass
class ConventionReady:
    """An operation at the convention step with its design approved and signers designated.

    ``signers`` lists the ``(user, organisation)`` pairs that sign, porteur first.
    """

    market: Market
    operation: Operation
    design: Design
    convention: Convention
    signers: list[tuple[User, Organisation]] = field(default_factory=list)

    @property
    def carrier(self) -> tuple[User, Organisation]:
        """The organisme porteur's admin and organisation (drafts and submits)."""
        return self.market.a_user, self.market.of_a

    @property
    def region(self) -> tuple[User, Organisation]:
        """The territorial referent and the Région (validates or rejects)."""
        return self.market.referent, self.market.region

    def submit(self) -> ConventionVersion:
        """Submit the convention for signature as the porteur."""
        user, org = self.carrier
        return conventions.submit(self.convention, by=user, org=org)

    def sign(self, version: ConventionVersion, user: User, org: Organisation) -> Signature:
        """Sign ``version`` as ``user`` for ``org`` with the exact consent text."""
        return sign_as(version, user, org)

    def validate(self, version: ConventionVersion) -> None:
        """The Région validates ``version`` (which must be fully signed)."""
        user, org = self.region
        conventions.validate(version, by=user, org=org)

    def clause(self, key: SectionKey = SectionKey.CONV_OBJECT):
        """The clause section ``key`` of the convention."""
        return self.design.section(key)

    def edit_clause(self, text: str, key: SectionKey = SectionKey.CONV_OBJECT) -> None:
        """Change a clause's text as the porteur, through the co-design editing service."""
        section = self.clause(key)
        user, org = self.carrier
        design_services.save_section(
            section, {"text": text}, base_version=section.version, by=user, org=org, steering=True
        )


def _item(**fields) -> dict:
    return {"id": design_services.new_id(), **fields}


def _fill_design(market: Market, design: Design) -> None:
    """Contents that satisfy the gate to the convention (420 h centre, 140 h company)."""
    skill = _item(label="Nettoyer", block_code="", employer_id=market.employer.id)
    text = {"text": "Contenu rédigé."}
    contents = {
        SectionKey.OBJECTIVES: text,
        SectionKey.PUBLIC: text,
        SectionKey.SKILLS: {"items": [skill]},
        SectionKey.MODULES: {
            "items": [
                _item(
                    title="Techniques de nettoyage",
                    hours=420,
                    place="centre",
                    employer_id=None,
                    skill_ids=[skill["id"]],
                    trainer="",
                )
            ]
        },
        SectionKey.RHYTHM: {
            "items": [
                _item(
                    kind="centre",
                    start="2027-01-04",
                    end="2027-03-26",
                    hours=420,
                    employer_id=None,
                    label="",
                ),
                _item(
                    kind="immersion",
                    start="2027-03-29",
                    end="2027-04-30",
                    hours=140,
                    employer_id=market.employer.id,
                    label="",
                ),
            ]
        },  # fmt: skip
        SectionKey.PEDAGOGY: text,
        SectionKey.EVALUATION: text,
        SectionKey.MEANS: text,
    }
    for key, content in contents.items():
        section = design.section(key)
        design_services.save_section(
            section,
            content,
            base_version=section.version,
            by=market.a_user,
            org=market.of_a,
            steering=True,
        )


def _position(
    market: Market, operation: Operation, employer, user, count, contract, months=None
) -> None:
    need = needs.need_for(operation, employer)
    needs.add_position(
        need,
        {
            "job_title": "Agent·e d'entretien",
            "count": count,
            "contract_type": contract,
            "duration_months": months,
        },
        by=user,
        org=employer,
    )


def make_convention_ready(
    market: Market | None = None,
    *,
    partner: bool = True,
    second_employer: bool = False,
    designate: bool = True,
) -> ConventionReady:
    """Build an operation of Organisme A at the convention step, ready to be submitted.

    The needs analysis is answered, the design filled and approved by the Région, the
    operation advanced to ``convention`` (which starts the convention and its default
    clauses) and, with ``designate``, each signing party's admin designated as signer.
    In an empty database, built once per process and then copied (``copy_rows_or_build``):
    some three hundred tests start here.
    """
    options = {"partner": partner, "second_employer": second_employer, "designate": designate}
    if market is None:
        return copy_rows_or_build(
            ("convention_ready", *options.values()), lambda: _ready(Market(), **options)
        )
    return _ready(market, **options)


def _ready(
    market: Market, *, partner: bool, second_employer: bool, designate: bool
) -> ConventionReady:
    a_user, of_a = market.a_user, market.of_a
    operation = market.report()
    operations.acknowledge_need(operation, by=market.referent, org=market.region)
    lifecycle.advance(operation, Status.ANALYSIS, by=a_user, org=of_a)
    if partner:
        operations.add_participant(
            operation, market.partner, ParticipantRole.PARTNER_EMPLOYMENT, by=a_user, org=of_a
        )
    if second_employer:
        operations.add_participant(
            operation, market.employer2, ParticipantRole.EMPLOYER, by=a_user, org=of_a
        )
        _position(
            market, operation, market.employer2, market.employer2_user, 2, ContractType.CDD, 12
        )
    _position(market, operation, market.employer, market.employer_user, 3, ContractType.CDI)
    analysis = needs.analysis_for(operation)
    needs.save_analysis(
        analysis,
        {"target_publics": ["job_seekers"], "prerequisites": "", "adaptations": "Hygiène"},
        by=a_user,
        org=of_a,
    )
    needs.send_analysis(analysis, by=a_user, org=of_a)
    needs.answer_analysis(analysis, "Accord", by=market.referent, org=market.region)
    operation.session_start, operation.session_end = SESSION
    operation.hours_centre, operation.hours_company = 420, 140
    lifecycle.advance(operation, Status.CO_DESIGN, by=a_user, org=of_a)
    design = design_services.design_for(operation)
    _fill_design(market, design)
    design_services.approve_design(design, by=market.referent, org=market.region)
    lifecycle.advance(operation, Status.CONVENTION, by=a_user, org=of_a)
    convention = conventions.convention_for(operation)
    db.session.expire(design, ["sections"])
    ready = ConventionReady(market, operation, design, convention)
    pairs = [("provider", a_user, of_a), ("employer", market.employer_user, market.employer)]
    if second_employer:
        pairs.append(("employer2", market.employer2_user, market.employer2))
    if partner:
        pairs.append(("partner", market.partner_user, market.partner))
    for key, user, organisation in pairs:
        if designate:
            # Each party's own admin designates its signer (issue #11 M5).
            conventions.designate_signer(
                convention, organisation, user, CAPACITIES[key], by=user, by_org=organisation
            )
        ready.signers.append((user, organisation))
    db.session.flush()
    return ready


def sign_as(
    version: ConventionVersion,
    user: User,
    organisation: Organisation,
    evidence: conventions.Evidence = EVIDENCE,
) -> Signature:
    """Sign ``version`` for ``organisation`` with the exact consent text of its signer."""
    designation = conventions.signer_for(version.convention, organisation.id)
    consent = conventions.consent_text(version, organisation, designation.capacity)
    return conventions.sign(
        version, user=user, organisation=organisation, consent=consent, evidence=evidence
    )


def sign_all(ready: ConventionReady, version: ConventionVersion) -> list[Signature]:
    """Every party signs ``version`` (porteur first); the version ends « signée »."""
    return [sign_as(version, user, org) for user, org in ready.signers]


def submit_version(ready: ConventionReady) -> ConventionVersion:
    """Submit the convention as the porteur; returns the new version."""
    return ready.submit()


def validated_convention(ready: ConventionReady | None = None) -> ConventionVersion:
    """Submit, sign by everyone and validate version 1; returns it (« validée »)."""
    ready = ready or make_convention_ready()
    version = ready.submit()
    sign_all(ready, version)
    ready.validate(version)
    return version


def in_force(ready: ConventionReady | None = None, *, recruiting: bool = True) -> ConventionReady:
    """Version 1 signed and validated (in force); with ``recruiting``, the operation moved
    on to recruitment (its job promises created). Returns ``ready``."""
    ready = ready or make_convention_ready()
    validated_convention(ready)
    if recruiting:
        user, org = ready.carrier
        lifecycle.advance(ready.operation, Status.RECRUITMENT, by=user, org=org)
    return ready
