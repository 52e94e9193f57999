"""Building an archive runs the same number of SQL queries whatever the number of trainees
(each brings a debrief sheet and an internship certificate: eager loads, no N+1).

Run with ``-s`` to print the counts for the closing note.
"""

from datetime import date, timedelta

from sqlalchemy import insert, select

from portal.extensions import db
from portal.immersions.models import (
    DebriefSkill,
    DebriefTrainee,
    Immersion,
    Presence,
    SkillLevel,
    SkillRating,
    TutorAssessment,
    WouldHire,
)
from portal.recruitment.models import Trainee, TraineeStatus
from tests.archive.factories import built
from tests.support import count_queries, explain

ENDED = (date.today() - timedelta(days=40), date.today() - timedelta(days=30))


def add_trainees(app, operation_id: int, n: int) -> None:
    """``n`` trainees of the operation, each with an immersion over (assessed by its tutor,
    one skill rated) and a line of the operation's first debrief (one skill noted)."""
    with app.app_context():
        model = db.session.scalars(
            select(Immersion)
            .where(Immersion.operation_id == operation_id, Immersion.tutor_id.is_not(None))
            .order_by(Immersion.id)
        ).first()
        debrief_id = db.session.scalar(
            select(DebriefTrainee.debrief_id)
            .join(Immersion, Immersion.id == DebriefTrainee.immersion_id)
            .where(Immersion.operation_id == operation_id)
            .limit(1)
        )
        for _ in range(n):
            trainee_id = db.session.execute(
                insert(Trainee).values(
                    operation_id=operation_id,
                    first_name="Prénom",
                    last_name="Nom",
                    status=TraineeStatus.IN_TRAINING,
                )
            ).inserted_primary_key[0]
            immersion_id = db.session.execute(
                insert(Immersion).values(
                    operation_id=operation_id,
                    trainee_id=trainee_id,
                    employer_id=model.employer_id,
                    tutor_id=model.tutor_id,
                    starts_on=ENDED[0],
                    ends_on=ENDED[1],
                    objectives=model.objectives,
                )
            ).inserted_primary_key[0]
            assessment_id = db.session.execute(
                insert(TutorAssessment).values(
                    immersion_id=immersion_id,
                    tutor_id=model.tutor_id,
                    presence=Presence.FULL,
                    would_hire=WouldHire.YES,
                )
            ).inserted_primary_key[0]
            rating_id = db.session.execute(
                insert(SkillRating).values(
                    assessment_id=assessment_id,
                    skill_id="s1",
                    skill_label="Préparer une commande",
                    level=SkillLevel.ACQUIRED,
                )
            ).inserted_primary_key[0]
            db.session.execute(
                insert(DebriefTrainee).values(
                    debrief_id=debrief_id, trainee_id=trainee_id, immersion_id=immersion_id
                )
            )
            db.session.execute(
                insert(DebriefSkill).values(
                    debrief_id=debrief_id,
                    trainee_id=trainee_id,
                    skill_id="s1",
                    skill_label="Préparer une commande",
                    level=SkillLevel.ACQUIRED,
                    rating_id=rating_id,
                )
            )
        db.session.commit()


def statements(app, operation_id: int) -> tuple[list[str], int]:
    """The queries of one build of the archive, and its number of files."""
    with app.test_request_context(base_url="http://portail.test"):
        with count_queries(app) as sent:
            archive = built(operation_id)
        archive.file.close()
        return list(sent), archive.files


def test_the_archive_does_not_grow_in_queries_with_trainees(app, demo):
    add_trainees(app, demo.saran, 1)
    small, small_files = statements(app, demo.saran)
    add_trainees(app, demo.saran, 6)
    large, large_files = statements(app, demo.saran)
    assert large_files == small_files + 12  # a sheet and a certificate each
    assert len(small) == len(large), explain(small, large)
    print(f"\narchive of Saran: {len(small)} queries at {small_files} files and {large_files}")
