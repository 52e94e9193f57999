"""Factories for the evaluation tests: the follow-up world of ``tests/followup`` whose
trainees left seven months ago, and helpers that drive the evaluation and the prime
through the services.

Usage (inside an app context)::

    world = Evaluated()                 # in follow-up, +6 months answered for all
    world.open()                        # the organisme opens the evaluation
    world.write()                       # and writes its four parts
"""

from datetime import timedelta

from portal.assessment import services
from portal.design import services as design_services
from portal.design.models import SectionKey
from portal.design.services import design_for
from portal.extensions import db
from portal.operations.models import Status
from tests.followup.factories import TODAY, Training

EXIT = TODAY - timedelta(days=215)  # the +6 months follow-ups are due a month ago
TEXTS = {
    SectionKey.EVAL_WORKED: "Les immersions préparées avec les tuteurs.",
    SectionKey.EVAL_DIFFICULTIES: "La mobilité des stagiaires.",
    SectionKey.EVAL_ADAPTATIONS: "Un module de conduite ajouté.",
    SectionKey.EVAL_CERTIFICATION: "Ajouter un bloc de compétences numériques.",
}


class Evaluated(Training):
    """Organisme A's operation in the employment follow-up: the three trainees left on
    ``EXIT``; with ``m6=True`` their +6 months follow-ups are answered (CDI)."""

    def __init__(self, *, m6: bool = True):
        super().__init__(started=400)
        self.exit_all(EXIT)
        self.operation.status = Status.FOLLOW_UP
        if m6:
            for trainee in self.trainees:
                self.answer(trainee, "m6", self.of, employer_id=trainee.promise.organisation_id)
        db.session.flush()

    @property
    def region(self) -> tuple:
        return self.market.region_admin, self.market.region

    def open(self):
        user, org = self.of
        return services.start_assessment(self.operation, by=user, org=org)

    def write(self, keys=tuple(TEXTS)) -> None:
        user, org = self.of
        design = design_for(self.operation)
        for key in keys:
            section = design.section(key)
            design_services.save_section(
                section,
                {"text": TEXTS[key]},
                base_version=section.version,
                by=user,
                org=org,
                steering=True,
            )

    def submit(self) -> None:
        user, org = self.of
        services.submit_assessment(services.assessment_for(self.operation), by=user, org=org)

    def accept(self, comment: str = "Bilan complet.") -> None:
        user, org = self.region
        assessment = services.assessment_for(self.operation)
        services.decide_assessment(assessment, accept=True, comment=comment, by=user, org=org)

    def request_bonus(self, text: str = "Une formation sur le plateau de l'employeur."):
        user, org = self.of
        return services.request_bonus(self.operation, text, by=user, org=org)

    def grant(self, amount: int = 3000) -> None:
        user, org = self.region
        bonus = services.bonus_for(self.operation)
        services.decide_bonus(bonus, grant=True, amount_euros=amount, by=user, org=org)

    def evaluated(self) -> None:
        """Opened, written, submitted and accepted."""
        self.open()
        self.write()
        self.submit()
        self.accept()
