"""The debrief sheet and the internship certificate as DOCX: served to those who may see the
trainee, logged as exports, and read back with python-docx."""

from datetime import timedelta
from io import BytesIO

from docx import Document
from sqlalchemy import select

from portal.extensions import db
from portal.immersions import assessments, debriefs
from portal.immersions.models import (
    Debrief,
    DebriefKind,
    Immersion,
    Presence,
    SkillLevel,
    WouldHire,
)
from portal.operations.models import Operation
from portal.recruitment.models import TraineeAccess
from tests.immersions.factories import TODAY
from tests.operations.factories import EMPLOYER, EMPLOYER2, OF_A, REGION_ADMIN
from tests.support import committed, count, login_as, user_with

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def record(app, site) -> int:
    """Paul's assessment of Alice's first immersion and an individual debrief; its id."""
    with committed(app):
        immersion = db.session.get(Immersion, site.alice_past)
        immersion.agreement_reference = "CS-2026-017"
        assessments.record_assessment(
            immersion,
            {
                "presence": Presence.PARTIAL,
                "would_hire": WouldHire.YES,
                "feedback": "Volontaire et soigneuse.",
                "ratings": [
                    {"skill_id": site.skills[0], "level": SkillLevel.IN_PROGRESS,
                     "comment": "Encore hésitante."},
                ],
            },
            by=user_with("tuteur.e@example.fr"),
            org=immersion.employer,
        )  # fmt: skip
        debrief = debriefs.record_debrief(
            db.session.get(Operation, site.operation),
            {
                "kind": DebriefKind.INDIVIDUAL,
                "held_on": TODAY - timedelta(days=1),
                "immersions": [immersion],
                "attendee_ids": [site.tutor_e],
                "went_well": "Intégration rapide.",
                "difficulties": "Trajets longs.",
                "decisions": "Aide à la mobilité.",
                "next_steps": "Point dans un mois.",
                "skills": [
                    {"trainee_id": site.alice, "skill_id": site.skills[0],
                     "level": SkillLevel.ACQUIRED, "comment": "Validé en centre."},
                ],
            },
            by=user_with(OF_A),
            org=immersion.operation.provider,
        )  # fmt: skip
        db.session.flush()
        return debrief.id


def test_the_debrief_sheet_reads_back(app, client, site):
    debrief_id = record(app, site)
    login_as(client, OF_A)
    before = count(app, TraineeAccess, TraineeAccess.action == "export")
    response = client.get(f"{site.base}/retours/{debrief_id}/stagiaires/{site.alice}/feuille.docx")
    assert response.status_code == 200 and response.mimetype == DOCX
    assert "attachment" in response.headers["Content-Disposition"]
    assert (
        f"retour-experience-{debrief_id}-stagiaire-{site.alice}.docx"
        in response.headers["Content-Disposition"]
    )
    document = Document(BytesIO(response.data))
    assert document.core_properties.title == "Feuille de retour d'expérience — Alice Durand"
    content = all_text(document)
    for expected in (
        "Feuille de retour d'expérience",
        "Agent·e de propreté et d'hygiène",
        "Alice Durand",
        "Individuel",
        "Entreprise E",
        "Paul Martin",
        "Paul Martin (Entreprise E)",
        "Intégration rapide.",
        "Trajets longs.",
        "Aide à la mobilité.",
        "Point dans un mois.",
        "Utiliser une autolaveuse",
        "En cours d'acquisition",  # the tutor's view
        "Acquis",  # retained at the debrief
        "Validé en centre.",
    ):
        assert expected in content, expected
    assert count(app, TraineeAccess, TraineeAccess.action == "export") == before + 1


def test_the_internship_certificate_reads_back(app, client, site):
    record(app, site)
    login_as(client, EMPLOYER)  # the host employer may download it too
    response = client.get(f"{site.base}/immersions/{site.alice_past}/attestation.docx")
    assert response.status_code == 200 and response.mimetype == DOCX
    document = Document(BytesIO(response.data))
    content = all_text(document)
    for expected in (
        "Attestation de stage",
        "Organisme A atteste que Alice Durand",
        "Entreprise E",
        "Paul Martin",
        "CS-2026-017",
        "Utiliser une autolaveuse",
        "Respecter les protocoles d'hygiène",  # objectives
        "Absences ponctuelles",
        "Volontaire et soigneuse.",
        "Encore hésitante.",
    ):
        assert expected in content, expected
    assert "Embaucherait" not in content  # the hiring intention stays between organisations
    with app.app_context():
        access = db.session.scalars(
            select(TraineeAccess).order_by(TraineeAccess.id.desc()).limit(1)
        ).one()
        assert (access.action, access.trainee_id) == ("export", site.alice)


def test_documents_follow_the_trainees_access(app, client, site):
    debrief_id = record(app, site)
    login_as(client, REGION_ADMIN)
    assert (
        client.get(f"{site.base}/immersions/{site.alice_past}/attestation.docx").status_code == 200
    )
    login_as(client, EMPLOYER2)
    assert (
        client.get(f"{site.base}/immersions/{site.alice_past}/attestation.docx").status_code == 403
    )
    sheet = f"{site.base}/retours/{debrief_id}/stagiaires/{site.alice}/feuille.docx"
    assert client.get(sheet).status_code == 403
    login_as(client, OF_A)
    # A trainee not in this debrief: 404.
    assert (
        client.get(
            f"{site.base}/retours/{debrief_id}/stagiaires/{site.bob}/feuille.docx"
        ).status_code
        == 404
    )
    with app.app_context():
        assert db.session.get(Debrief, debrief_id) is not None


def test_control_characters_stored_before_cleaning_do_not_break_the_documents(app, client, site):
    """Issue #11 M7: a control character stored in a name, a debrief or an assessment made
    python-docx raise: the debrief sheet and the certificate answered 500."""
    debrief_id = record(app, site)
    with committed(app):
        debrief = db.session.get(Debrief, debrief_id)
        debrief.went_well = "Intégration\x01 rapide.\x0b"
        immersion = db.session.get(Immersion, site.alice_past)
        immersion.assessment.feedback = "Volontaire\x1b et soigneuse."
        immersion.trainee.last_name = "Durand\x08"
    login_as(client, OF_A)
    sheet = client.get(f"{site.base}/retours/{debrief_id}/stagiaires/{site.alice}/feuille.docx")
    assert sheet.status_code == 200
    sheet_text = all_text(Document(BytesIO(sheet.data)))
    assert "Intégration rapide." in sheet_text and "Alice Durand" in sheet_text
    certificate = client.get(f"{site.base}/immersions/{site.alice_past}/attestation.docx")
    assert certificate.status_code == 200
    document = Document(BytesIO(certificate.data))
    assert "Volontaire et soigneuse." in all_text(document)
    assert document.core_properties.title == "Attestation de stage — Alice Durand"
