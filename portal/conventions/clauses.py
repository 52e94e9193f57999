"""The convention type: the default wording of the convention's clauses, from the Région's
DEFI sheet, with placeholders for what each operation fills in.

The Région's admins edit this wording in the portal (``clause_templates.py``, versioned);
until they do, the text below is in force. A new convention's clauses are prefilled from
the version in force, the placeholders filled; the organisme and the Région then edit them
like any section of the design. Parties, job promises and the training itself are not
clauses: the convention quotes them from the operation.
"""

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core import french
from portal.design.models import SectionKey
from portal.operations.models import Operation

# Placeholder -> what it stands for (shown to the Région's admins).
PLACEHOLDERS = {
    "intitulé": _l("l'intitulé de l'opération"),
    "certification": _l("la certification visée (ou « la certification visée »)"),
    "session": _l("les dates de la session (ou « aux dates fixées par le calendrier… »)"),
}
_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,40})\}")
# « à {certification} », « de {certification} »: contracted with the title's article.
_AFTER_PREPOSITION = re.compile(r"(?<!\w)(à|de) \{certification\}")


def _session(operation: Operation) -> str:
    if operation.session_start and operation.session_end:
        return _(
            "du %(start)s au %(end)s",
            start=operation.session_start.strftime("%d/%m/%Y"),
            end=operation.session_end.strftime("%d/%m/%Y"),
        )
    return _("aux dates fixées par le calendrier de la session")


def unknown_placeholders(text: str) -> list[str]:
    """The ``{…}`` of ``text`` that are not placeholders of the convention type."""
    return sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def fill(texts: dict[str, str], operation: Operation) -> dict[SectionKey, str]:
    """The clauses of ``operation`` from a convention type's ``texts`` (call under
    ``force_locale``): each placeholder replaced, any other brace left as written."""
    certification = french.certification(operation.certification_title)
    values = {
        "intitulé": operation.title,
        "certification": operation.certification_title or _("la certification visée"),
        "session": _session(operation),
    }

    def contract(match: re.Match) -> str:
        """« conduisant au Titre professionnel… » rather than « à Titre… »."""
        named = certification or values["certification"]
        return (french.a if match.group(1) == "à" else french.de)(named)

    def replace(match: re.Match) -> str:
        return values.get(match.group(1), match.group(0))

    return {
        key: _PLACEHOLDER.sub(replace, _AFTER_PREPOSITION.sub(contract, texts.get(key.value, "")))
        for key in SectionKey.clause_keys()
    }


def default_template() -> dict[str, str]:
    """The DEFI sheet's wording of each clause, with placeholders (call under
    ``force_locale``): the convention type until the Région edits it."""
    title, certification, session = "{intitulé}", "{certification}", "{session}"
    texts = {
        SectionKey.CONV_OBJECT: _(
            "La présente convention formalise l'engagement des partenaires de l'opération "
            "DEFI « %(title)s » (Développement de l'Emploi par des Formations Inclusives), "
            "pilotée par la Région Centre-Val de Loire. Elle a pour objet une formation "
            "construite sur mesure avec les employeurs signataires, conduisant à %(cert)s, "
            "et le recrutement des stagiaires par ces employeurs à l'issue de la formation, "
            "sur des emplois durables (CDI ou CDD de six mois ou plus).",
            title=title,
            cert=certification,
        ),
        SectionKey.CONV_PROVIDER: "\n".join(
            [
                _("L'organisme de formation s'engage à :"),
                _(
                    "- recruter les stagiaires avec une communication et des actions de "
                    "sourcing adaptées, en lien avec les employeurs et les prescripteurs ;"
                ),
                _(
                    "- adapter l'ingénierie, la pédagogie et les contenus de formation pour "
                    "développer les compétences listées dans la présente convention ;"
                ),
                _(
                    "- entretenir un dialogue constant avec les employeurs signataires avant, "
                    "pendant et après la formation ;"
                ),
                _(
                    "- préparer et accompagner chaque période d'immersion en entreprise et "
                    "organiser un retour d'expérience, individuel ou collectif, après chacune ;"
                ),
                _(
                    "- inviter les employeurs et les tuteurs aux bilans, évaluations et jurys "
                    "de certification ;"
                ),
                _(
                    "- suivre les stagiaires dans l'emploi à la sortie, à 3 mois et à 6 mois, "
                    "et en rendre compte à la Région ;"
                ),
                _(
                    "- évaluer le dispositif de formation et l'insertion en emploi des "
                    "stagiaires, et participer aux travaux de capitalisation (évolution des "
                    "certifications) ;"
                ),
                _("- participer au comité de pilotage de l'opération."),
            ]
        ),
        SectionKey.CONV_EMPLOYERS: "\n".join(
            [
                _("Chaque employeur signataire s'engage à :"),
                _(
                    "- recruter, à l'issue de la formation, les stagiaires à hauteur des "
                    "promesses d'emploi indiquées dans la présente convention ;"
                ),
                _(
                    "- accueillir les stagiaires en période d'immersion et désigner pour chacun "
                    "un tuteur ou une tutrice ;"
                ),
                _(
                    "- le cas échéant, mettre à disposition son plateau technique pour les "
                    "parties de la formation qui s'y déroulent ;"
                ),
                _("- participer aux évaluations, bilans et jurys de certification ;"),
                _("- participer au comité de pilotage de l'opération."),
            ]
        ),
        SectionKey.CONV_PARTNERS: _(
            "Les partenaires de l'orientation, de l'emploi et de l'économie (France Travail, "
            "Missions locales, Cap emploi, OPCO…) contribuent à l'information des publics, à "
            "la prescription et au recrutement des candidats, et participent au comité de "
            "pilotage."
        ),
        SectionKey.CONV_REGION: _(
            "La Région Centre-Val de Loire pilote le dispositif DEFI. Elle valide la présente "
            "convention après la signature de toutes les parties, suit la mise en œuvre de "
            "l'opération et peut attribuer une prime DEFI à l'ingénierie sur mesure et "
            "innovante."
        ),
        SectionKey.CONV_FOLLOWUP: _(
            "L'organisme de formation suit la situation de chaque stagiaire dans l'emploi à la "
            "sortie de formation, puis à 3 mois et à 6 mois, et en rend compte à la Région. "
            "Il évalue le dispositif de formation et l'insertion en emploi des stagiaires, et "
            "participe aux travaux de capitalisation, notamment sur l'évolution des "
            "certifications. La Région, pilote du dispositif, reçoit ce compte rendu et en "
            "tire les enseignements pour les opérations DEFI."
        ),
        SectionKey.CONV_STEERING: _(
            "Un comité de pilotage réunit la Région, l'organisme de formation, les employeurs "
            "et les partenaires. Il se réunit au moins au lancement, à mi-parcours et au bilan "
            "de l'opération ; il suit le recrutement, le déroulement de la formation et "
            "l'insertion des stagiaires."
        ),
        SectionKey.CONV_DATA: _(
            "Les données personnelles des stagiaires sont limitées à ce que le suivi de "
            "l'opération exige. Elles ne sont accessibles qu'à l'organisme de formation, à la "
            "Région, au prescripteur et à l'employeur qui accueille le stagiaire, et sont "
            "traitées conformément au règlement général sur la protection des données."
        ),
        SectionKey.CONV_DURATION: _(
            "La convention prend effet à sa validation par la Région, pour la durée de la "
            "session (%(session)s) et du suivi dans l'emploi à 6 mois. Toute modification fait "
            "l'objet d'un avenant soumis à la signature des parties et à la validation de la "
            "Région ; la version validée reste en vigueur jusqu'à la validation de l'avenant.",
            session=session,
        ),
    }
    return {key.value: text for key, text in texts.items()}
