"""Demo: what the Région publishes and edits — a reference document on « Pour aller plus
loin » and a first version of the convention type."""

from io import BytesIO

from docx import Document

from portal.accounts.models import Organisation, User
from portal.conventions import clause_templates
from portal.design.models import SectionKey
from portal.resources import services as resources

# From the DEFI sheet (fictitious summary of the Région's « Schéma et fiche action DEFI »).
SHEET = [
    (
        "Finalité",
        "DEFI développe une offre de formation « cousue main », co-construite avec les "
        "entreprises et les partenaires, pour répondre aux besoins de recrutement à court "
        "terme et sécuriser l'insertion professionnelle dès le démarrage de la formation.",
    ),
    (
        "Étapes clés",
        "Analyse précise des besoins de l'entreprise et des publics au regard des "
        "diagnostics de territoire ; co-conception ; convention de partenariat ; mise en "
        "œuvre ; évaluation du dispositif et capitalisation.",
    ),
    (
        "Engagements de l'organisme de formation",
        "Recruter avec les entreprises (1 stagiaire pour 1 promesse d'emploi), préparer et "
        "accompagner chaque période d'immersion, associer employeurs et tuteurs aux "
        "évaluations, suivre les stagiaires dans l'emploi à 3 et 6 mois et en rendre compte "
        "à la Région, participer au comité de pilotage.",
    ),
]

DATA_CLAUSE_ADDITION = (
    "\nLes données sont conservées jusqu'à la fin du suivi à 6 mois, puis archivées "
    "selon les règles de la Région."
)


def _sheet_docx() -> bytes:
    document = Document()
    document.add_heading("Fiche action DEFI — résumé", level=1)
    for heading, text in SHEET:
        document.add_heading(heading, level=2)
        document.add_paragraph(text)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def load_demo_region(*, region: Organisation, region_admin: User) -> None:
    """The action sheet published, and version 1 of the convention type (data clause)."""
    resources.add_document(
        _sheet_docx(),
        "Fiche action DEFI.docx",
        "Schéma et fiche action DEFI",
        "Résumé de la fiche action de la Région : finalité, étapes clés, engagements.",
        by=region_admin,
        org=region,
    )
    texts = dict(clause_templates.in_force().texts)
    texts[SectionKey.CONV_DATA.value] += DATA_CLAUSE_ADDITION
    clause_templates.save_template(
        texts,
        "Article « Protection des données personnelles » : durée de conservation précisée.",
        base=clause_templates.ORIGINAL,
        by=region_admin,
        org=region,
    )
