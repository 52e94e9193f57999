"""The evaluation's figures as tables: one layout for the page and the DOCX.

Pure functions over ``portal.followup.indicators.Indicators``: no database access.
"""

from dataclasses import dataclass

from flask_babel import gettext as _

from portal.followup.indicators import Indicators
from portal.followup.models import MilestoneKind


@dataclass(frozen=True)
class Table:
    """A captioned table: column headers, then rows whose first cell is the row header."""

    caption: str
    headers: list[str]
    rows: list[list[str]]


def rate(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a whole percentage in French, or a dash without a whole."""
    if not whole:
        return "—"
    return f"{round(100 * part / whole)} %"


def tables(figures: Indicators) -> list[Table]:
    """Recruitment and training, then employment at each follow-up."""
    target = figures.target_headcount
    recruitment = Table(
        caption=_("Recrutement, formation et certification"),
        headers=[_("Indicateur"), _("Valeur")],
        rows=[
            [_("Effectif ciblé"), str(target) if target is not None else _("non défini")],
            [_("Promesses d'embauche"), str(figures.promises)],
            [_("dont en emploi durable"), str(figures.promises_lasting)],
            [_("Stagiaires recruté·es"), str(figures.recruited)],
            [_("Recruté·es / effectif ciblé"), rate(figures.recruited, target or 0)],
            [_("Sorties enregistrées"), str(figures.exited)],
            [_("Parcours complets (sortie en fin de formation)"), str(figures.completed)],
            [_("Taux de parcours complets"), rate(figures.completed, figures.recruited)],
            [_("Certifications complètes"), str(figures.certified_full)],
            [_("Certifications partielles"), str(figures.certified_partial)],
            [_("Promesses tenues"), str(figures.promises_kept)],
            [_("Promesses non tenues"), str(figures.promises_not_kept)],
        ],
    )
    employment = Table(
        caption=_("Emploi des stagiaires sorti·es, selon les réponses retenues"),
        headers=[
            _("Suivi"),
            _("Stagiaires suivi·es"),
            _("Réponses retenues"),
            _("En emploi"),
            _("En emploi durable"),
            _("Taux d'emploi durable"),
            _("Chez l'employeur de la promesse"),
        ],
        rows=[
            [
                kind.title,
                str(e.followed),
                str(e.retained),
                str(e.employed),
                str(e.lasting),
                rate(e.lasting, e.followed),
                str(e.with_promiser),
            ]
            for kind, e in ((k, figures.employment[k]) for k in MilestoneKind)
        ],
    )
    return [recruitment, employment]
