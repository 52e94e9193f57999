"""The « Feuille de retour d'expérience » and the « Attestation de stage » as Word documents
(python-docx), built with the helpers of the co-design's fiche (styles, French language,
grid tables with repeated headers).

Both are dated now when downloaded one by one; the operation's archive passes ``stamp``,
the date of the state it records, so that the same state gives the same text.
"""

from datetime import datetime
from io import BytesIO

from docx import Document
from flask_babel import gettext as _

from portal.core.time import utcnow
from portal.design.documents import (
    _date,
    _set_language,
    _table,
    heading,
    paragraph,
    render_text,
    set_properties,
)
from portal.immersions.models import Debrief, Immersion
from portal.immersions.services import design_skills
from portal.recruitment.models import Trainee


def sheet_filename(debrief: Debrief, trainee: Trainee) -> str:
    """The name the browser saves the debrief sheet under."""
    return f"retour-experience-{debrief.id}-stagiaire-{trainee.id}.docx"


def certificate_filename(immersion: Immersion) -> str:
    """The name the browser saves the internship certificate under."""
    return f"attestation-stage-{immersion.id}.docx"


def _new_document(title: str, subject: str, when: datetime):
    document = Document()
    _set_language(document)
    set_properties(document, title=title, subject=subject, keywords="DEFI", created=when)
    return document


def _save(document) -> bytes:
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _period(immersion: Immersion) -> str:
    return _("du %(a)s au %(b)s", a=_date(immersion.starts_on), b=_date(immersion.ends_on))


def _objectives(immersion: Immersion, skills: list[dict]) -> list[str]:
    labels = {s["id"]: s["label"] for s in skills}
    return [labels[i] for i in immersion.objectives or [] if i in labels]


def debrief_sheet_docx(
    debrief: Debrief, trainee: Trainee, *, stamp: datetime | None = None
) -> bytes:
    """The debrief sheet of one trainee: the period, who attended, what was said, the
    skills progress next to the tutor's view, decisions and next steps."""
    when = stamp or utcnow()
    operation = debrief.operation
    line = next(t for t in debrief.trainees if t.trainee_id == trainee.id)
    immersion = line.immersion
    document = _new_document(
        _("Feuille de retour d'expérience — %(t)s", t=trainee.full_name),
        _("Retour d'expérience après une période d'immersion"),
        when,
    )
    heading(document, _("Feuille de retour d'expérience"), level=0)
    paragraph(document, operation.title, style="Subtitle")
    facts = [
        (_("Stagiaire"), trainee.full_name),
        (_("Organisme de formation"), operation.provider.name if operation.provider else ""),
        (_("Retour d'expérience"), f"{debrief.kind.title} — {_date(debrief.held_on)}"),
        (_("Présence du ou de la stagiaire"), _("Oui") if line.attended else _("Non")),
    ]
    if immersion is not None:
        facts += [
            (_("Entreprise d'accueil"), immersion.employer.name),
            (
                _("Tuteur·rice"),
                immersion.tutor.full_name if immersion.tutor else _("Non désigné·e"),
            ),
            (_("Période d'immersion"), _period(immersion)),
        ]
    _table(document, [_("Rubrique"), _("Valeur")], [list(f) for f in facts])

    heading(document, _("Participant·es"), level=1)
    people = [f"{a.user.full_name} ({a.organisation.name})" for a in debrief.attendees]
    for person in people or [_("Non renseigné")]:
        paragraph(document, person, style="List Bullet")
    for title, text in (
        (_("Ce qui a bien fonctionné"), debrief.went_well),
        (_("Difficultés rencontrées"), debrief.difficulties),
    ):
        heading(document, title, level=1)
        render_text(document, text)

    heading(document, _("Progression des compétences"), level=1)
    skills = [s for s in debrief.skills if s.trainee_id == trainee.id]
    if skills:
        _table(
            document,
            [
                _("Compétence"),
                _("Avis du ou de la tuteur·rice"),
                _("Niveau retenu"),
                _("Commentaire"),
            ],
            [
                [s.skill_label, s.rating.level.title if s.rating else "—", s.level.title, s.comment]
                for s in skills
            ],
        )
    else:
        paragraph(document, _("Aucune compétence notée pour ce retour."))
    for title, text in (
        (_("Décisions"), debrief.decisions),
        (_("Prochaines étapes"), debrief.next_steps),
    ):
        heading(document, title, level=1)
        render_text(document, text)
    paragraph(document, _("Document établi le %(d)s par le Portail DEFI.", d=_date(when)))
    return _save(document)


def internship_certificate_docx(
    immersion: Immersion, *, stamp: datetime | None = None, skills: list[dict] | None = None
) -> bytes:
    """The « Attestation de stage »: trainee, host, tutor, dates, objectives and a summary
    of the tutor's assessment. ``skills``: the design's skills, when the caller already read
    them (an archive writes every certificate of the operation)."""
    when = stamp or utcnow()
    skills = design_skills(immersion.operation) if skills is None else skills
    operation, trainee = immersion.operation, immersion.trainee
    document = _new_document(
        _("Attestation de stage — %(t)s", t=trainee.full_name),
        _("Attestation de période d'immersion en entreprise"),
        when,
    )
    heading(document, _("Attestation de stage"), level=0)
    paragraph(
        document,
        _(
            "%(org)s atteste que %(t)s, stagiaire de la formation « %(title)s », a effectué "
            "une période d'immersion en entreprise %(period)s chez %(host)s.",
            org=operation.provider.name if operation.provider else _("L'organisme de formation"),
            t=trainee.full_name,
            title=operation.title,
            period=_period(immersion),
            host=immersion.employer.name,
        ),
    )
    facts = [
        (_("Stagiaire"), trainee.full_name),
        (_("Entreprise d'accueil"), immersion.employer.name),
        (_("Tuteur·rice"), immersion.tutor.full_name if immersion.tutor else _("Non désigné·e")),
        (_("Période"), _period(immersion)),
        (_("Référence de la convention de stage"), immersion.agreement_reference or "—"),
    ]
    _table(document, [_("Rubrique"), _("Valeur")], [list(f) for f in facts])
    heading(document, _("Objectifs de la période"), level=1)
    for label in _objectives(immersion, skills) or [_("Non renseigné")]:
        paragraph(document, label, style="List Bullet")

    heading(document, _("Appréciation du ou de la tuteur·rice"), level=1)
    assessment = immersion.assessment
    if assessment is None:
        paragraph(document, _("Le ou la tuteur·rice n'a pas encore évalué cette période."))
    else:
        _table(
            document,
            [_("Rubrique"), _("Valeur")],
            [
                [_("Assiduité"), assessment.presence.title],
                [_("Appréciation générale"), assessment.feedback or "—"],
            ],
        )
        if assessment.ratings:
            paragraph(document, "")
            _table(
                document,
                [_("Compétence"), _("Niveau observé"), _("Commentaire")],
                [[r.skill_label, r.level.title, r.comment] for r in assessment.ratings],
            )
    paragraph(document, _("Document établi le %(d)s par le Portail DEFI.", d=_date(when)))
    return _save(document)
