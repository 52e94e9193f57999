"""Factories for immersion tests: a running operation with a design (skills, rhythm),
two signatory employers with tutors, and trainees matched to promises.

Usage (inside an app context, e.g. the ``ctx`` fixture)::

    running = Running()                     # builds its own Market, operation in training
    alice = make_trainee(running, "Alice", employer=running.market.employer)
    generate(running)                       # immersions from the rhythm

The operation is put at the training (or recruitment) step by setting its status directly:
reaching it for real needs a validated convention (signatures, the Région's validation),
which the convention tests cover; here only the step matters.

Dates are relative to today: the first immersion period ended three weeks ago (its
debrief is overdue), the second starts in three days (its reminder is due).
"""

from datetime import date, timedelta

from portal.accounts.models import OrgKind
from portal.design.models import Design, DesignSection, SectionKey
from portal.design.services import new_id
from portal.extensions import db
from portal.immersions import services
from portal.operations.models import ContractType, Participant, ParticipantRole, Status
from portal.recruitment.models import JobPromise, Trainee, TraineeStatus
from tests.factories import make_org, make_user
from tests.operations.factories import Market
from tests.recruitment import factories as recruitment_factories

TODAY = date.today()
PAST = (TODAY - timedelta(days=30), TODAY - timedelta(days=21))
NEXT = (TODAY + timedelta(days=3), TODAY + timedelta(days=14))

# Accounts created here, besides those of the Market (tests/operations/factories.py).
TUTOR_E = "tuteur.e@example.fr"
TUTOR_E2 = "tutrice.e@example.fr"
TUTOR_F = "tuteur.f@example.fr"
EMPLOYER_MEMBER = "e.membre@example.fr"  # Entreprise E, neither admin nor tutor
OF_STAFF = "a.formatrice@example.fr"  # Organisme A, not admin
OUTSIDER = "dehors@example.fr"  # an employer taking part in no operation


def _period(kind: str, start: date, end: date, hours: int, label: str = "") -> dict:
    return {
        "id": new_id(),
        "kind": kind,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "hours": hours,
        "employer_id": None,
        "label": label,
    }


class Running:
    """An operation of Organisme A at the training step (or ``status``) with Entreprise E
    and Entreprise F as signatory employers, Partenaire P as prescriber, a design with
    three skills (two asked by E) and a rhythm with two immersion periods."""

    def __init__(self, status: Status = Status.TRAINING):
        m = self.market = Market()
        self.operation = operation = m.report()  # Organisme A, Entreprise E taking part
        for organisation, role in (
            (m.employer2, ParticipantRole.EMPLOYER),
            (m.partner, ParticipantRole.PARTNER_ORIENTATION),
        ):
            db.session.add(Participant(operation=operation, organisation=organisation, role=role))
        operation.status = status  # set directly: see the module's docstring
        operation.session_start = TODAY - timedelta(days=60)
        operation.session_end = TODAY + timedelta(days=90)
        self.tutor_e = make_user(m.employer, tutor=True, email=TUTOR_E, first_name="Paul")
        self.tutor_e2 = make_user(m.employer, tutor=True, email=TUTOR_E2, first_name="Inès")
        self.tutor_f = make_user(m.employer2, tutor=True, email=TUTOR_F, first_name="Omar")
        self.employer_member = make_user(m.employer, email=EMPLOYER_MEMBER)
        self.of_staff = make_user(m.of_a, email=OF_STAFF, first_name="Louise")
        self.outsider_org = make_org(OrgKind.EMPLOYER, "Entreprise Dehors")
        self.outsider = make_user(self.outsider_org, admin=True, email=OUTSIDER)
        self.skills = [
            {
                "id": new_id(),
                "label": "Utiliser une autolaveuse",
                "block_code": "BC01",
                "employer_id": m.employer.id,
            },
            {
                "id": new_id(),
                "label": "Respecter les protocoles d'hygiène",
                "block_code": "BC01",
                "employer_id": m.employer.id,
            },
            {
                "id": new_id(),
                "label": "Trier les déchets",
                "block_code": "BC02",
                "employer_id": None,
            },
        ]
        self.periods = [
            _period("centre", TODAY - timedelta(days=60), PAST[0] - timedelta(days=1), 140),
            _period("immersion", *PAST, 70, "Première immersion"),
            _period("centre", PAST[1] + timedelta(days=1), NEXT[0] - timedelta(days=1), 140),
            _period("immersion", *NEXT, 70, "Seconde immersion"),
        ]
        self.design = Design(operation=operation)
        db.session.add(self.design)
        for key in SectionKey.design_keys():
            content = {"items": []} if key.is_list else {"text": "Contenu."}
            if key == SectionKey.SKILLS:
                content = {"items": self.skills}
            elif key == SectionKey.RHYTHM:
                content = {"items": self.periods}
            db.session.add(DesignSection(design=self.design, key=key, version=1, content=content))
        db.session.flush()

    @property
    def carrier(self):
        """Keyword arguments of a service called by the organisme porteur's admin."""
        return {"by": self.market.a_user, "org": self.market.of_a}

    @property
    def skill_ids(self) -> list[str]:
        return [s["id"] for s in self.skills]


def make_trainee(
    running: Running,
    first_name: str = "Alice",
    last_name: str = "Durand",
    *,
    employer=None,
    status: TraineeStatus = TraineeStatus.IN_TRAINING,
    prescriber=None,
) -> Trainee:
    """A trainee of the running operation, matched to a new promise of ``employer`` if given
    (``tests.recruitment.factories.make_trainee`` writes it, no rule checked)."""
    promise = None
    if employer is not None:
        promise = JobPromise(
            operation_id=running.operation.id,
            organisation_id=employer.id,
            job_title="Agent·e d'entretien",
            contract_type=ContractType.CDI,
        )
        db.session.add(promise)
        db.session.flush()
    return recruitment_factories.make_trainee(
        running.operation,
        status=status,
        promise=promise,
        prescriber=prescriber,
        first_name=first_name,
        last_name=last_name,
    )


def spend_second_period_at(running: Running, employer) -> None:
    """Choose ``employer`` on the rhythm's second immersion period (issue #15)."""
    periods = [dict(p) for p in running.periods]
    periods[3]["employer_id"] = employer.id
    running.design.section(SectionKey.RHYTHM).content = {"items": periods}
    db.session.flush()


def alice_with_a_period_elsewhere() -> Running:
    """A running operation where Alice's promise is at Entreprise E and the rhythm's second
    immersion period names Entreprise F; nothing generated yet."""
    running = Running()
    make_trainee(running, "Alice", "Durand", employer=running.market.employer)
    spend_second_period_at(running, running.market.employer2)
    return running


def generate(running: Running) -> services.Generation:
    """Immersions from the rhythm, as the organisme porteur."""
    return services.generate_from_rhythm(running.operation, **running.carrier)


CHECKLIST = {
    "objectives_agreed": True,
    "tutor_briefed": True,
    "safety_ppe": True,
    "practical_details": "Rendez-vous 8 h à l'accueil, tenue fournie.",
    "agreement_reference": "CS-2026-001",
}
