"""Factories for the follow-up tests: an operation in training whose trainees are matched
to promises, and helpers that record exits and answers through the services.

Usage (inside an app context, e.g. the ``ctx`` fixture)::

    world = Training()                      # Organisme A, Entreprise E (2 CDI), F (1 CDD)
    world.exit_all(date)                    # the three trainees leave on ``date``
    world.answer(world.alice, "m3", world.of, situation="cdi", employer_id=...)

The operation is put at the training step by setting its status (reaching it for real
needs a validated convention, which the convention tests cover). Alice and Bob hold
Entreprise E's promises (Alice prescribed by Partenaire P), Chloé Entreprise F's.
"""

from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import OrgKind
from portal.extensions import db
from portal.followup import services
from portal.followup.models import Channel, Milestone, MilestoneKind
from portal.operations.models import Status
from portal.recruitment.models import ExitReason, TraineeStatus
from tests.factories import make_org, make_user
from tests.operations.factories import Market
from tests.recruitment.factories import make_recruiting_operation, make_trainee, promises_of

TODAY = date.today()
# The exit of the HTTP tests' trainees (tests/followup/conftest.py): the +3 months
# follow-ups are due, the +6 months ones to come.
EXIT = TODAY - timedelta(days=100)
# Accounts created here, besides those of the Market (tests/operations/factories.py).
OF_STAFF = "a.formatrice@example.fr"  # Organisme A, not admin
EMPLOYER_MEMBER = "e.membre@example.fr"  # Entreprise E, not admin
OUTSIDER = "g.admin@example.fr"  # Entreprise G, in no operation


class Training:
    """Organisme A's operation at the training step: Entreprise E (two CDI promises) and
    Entreprise F (one CDD of 6 months or more), Partenaire P prescriber; the session
    started ``started`` days ago."""

    def __init__(self, *, started: int = 200, status: Status = Status.TRAINING):
        m = self.market = Market()
        self.operation = op = make_recruiting_operation(
            m, target=3, counts=(2, 1), session_start=TODAY - timedelta(days=started)
        )
        op.status = status  # set directly: see the module's docstring
        op.session_end = TODAY - timedelta(days=1)
        e_promises = promises_of(op, m.employer)
        [f_promise] = promises_of(op, m.employer2)
        self.alice = make_trainee(
            op,
            status=TraineeStatus.IN_TRAINING,
            promise=e_promises[0],
            prescriber=m.partner,
            first_name="Alice",
            last_name="Durand",
        )
        self.bob = make_trainee(
            op,
            status=TraineeStatus.IN_TRAINING,
            promise=e_promises[1],
            first_name="Bob",
            last_name="Petit",
        )
        self.chloe = make_trainee(
            op,
            status=TraineeStatus.IN_TRAINING,
            promise=f_promise,
            first_name="Chloé",
            last_name="Roux",
        )
        self.of_staff = make_user(m.of_a, email=OF_STAFF, first_name="Louise")
        self.employer_member = make_user(m.employer, email=EMPLOYER_MEMBER)
        self.outsider_org = make_org(OrgKind.EMPLOYER, "Entreprise G")
        self.outsider = make_user(self.outsider_org, admin=True, email=OUTSIDER)

    @property
    def trainees(self) -> list:
        return [self.alice, self.bob, self.chloe]

    @property
    def of(self) -> tuple:
        """(user, organisation) of the organisme porteur's admin."""
        return self.market.a_user, self.market.of_a

    @property
    def employer(self) -> tuple:
        return self.market.employer_user, self.market.employer

    @property
    def employer2(self) -> tuple:
        return self.market.employer2_user, self.market.employer2

    @property
    def prescriber(self) -> tuple:
        return self.market.partner_user, self.market.partner

    def exit(self, trainee, exit_date: date, reason=ExitReason.END_OF_TRAINING, detail=""):
        """Record ``trainee``'s exit as the organisme porteur."""
        user, org = self.of
        return services.record_exit(
            trainee, exit_date=exit_date, reason=reason, detail=detail, by=user, org=org
        )

    def exit_all(self, exit_date: date) -> None:
        for trainee in self.trainees:
            self.exit(trainee, exit_date)

    def answer(self, trainee, kind: str, who: tuple, **data):
        """``who`` (user, organisation) answers ``trainee``'s milestone ``kind``; the contact
        is on the due date unless ``contacted_on`` says otherwise (and never tomorrow)."""
        milestone = milestone_of(trainee, kind)
        user, org = who
        values = {
            "situation": "cdi",
            "employer_id": None,
            "employer_name": "",
            "contacted_on": min(milestone.due_on, TODAY),
            "channel": Channel.PHONE,
        }
        values.update(data)
        return services.record_answer(milestone, values, by=user, org=org)

    def attempt(self, trainee, kind: str, who: tuple, n: int = 1) -> None:
        milestone = milestone_of(trainee, kind)
        user, org = who
        for _ in range(n):
            services.record_attempt(
                milestone,
                {"attempted_on": min(milestone.due_on, TODAY), "channel": Channel.PHONE},
                by=user,
                org=org,
            )


def milestone_of(trainee, kind: str) -> Milestone:
    """The trainee's milestone ``kind`` ("exit", "m3" or "m6")."""
    return db.session.scalar(
        select(Milestone).where(
            Milestone.trainee_id == trainee.id, Milestone.kind == MilestoneKind(kind)
        )
    )
