"""How timeline events read in French (what each person has to do: portal/todo/duties.py)."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.access import current_org
from portal.core.french import a, de
from portal.design.models import SectionKey
from portal.extensions import db
from portal.followup.models import MilestoneKind
from portal.lots.models import Category
from portal.operations.access import can_steer
from portal.operations.models import Funding, Operation, OperationEvent, ParticipantRole, Status
from portal.recruitment.models import ExitReason

EVENT_TITLES = {
    "need_reported": _l("Besoin repéré et signalé à la Région"),
    "acknowledged": _l("La Région accuse réception du besoin"),
    "fref_launched": _l("Consultation FREF %(reference)s : %(provider)s retenu"),
    "declined": _l("Besoin hors marché non retenu : %(reason)s"),
    "updated": _l("Informations de l'opération modifiées"),
    "advanced": _l("Passage de « %(source)s » à « %(target)s »"),
    "cancelled": _l("Opération annulée : %(reason)s"),
    "participant_added": _l("%(participant)s rejoint l'opération (%(role)s)"),
    "participant_invited": _l("%(participant)s invité·e à rejoindre l'opération (%(role)s)"),
    "participant_withdrawn": _l("%(participant)s retiré·e de l'opération"),
    "participant_withdrawal_requested": _l(
        "Retrait %(of_participant)s demandé : effectif avec l'avenant qui le porte"
    ),
    "participant_withdrawal_cancelled": _l("Retrait %(of_participant)s annulé"),
    "dual_membership_requested": _l(
        "Cumul d'appartenance à approuver par la Région : %(person)s (%(organisations)s)"
    ),
    "dual_membership_approved": _l(
        "La Région approuve le cumul d'appartenance %(of_person)s (%(organisations)s)"
    ),
    "dual_membership_refused": _l(
        "La Région refuse le cumul d'appartenance %(of_person)s (%(organisations)s) : %(reason)s"
    ),
    "employer_need_updated": _l("Besoins %(of_employer)s mis à jour"),
    "position_added": _l("%(employer)s : %(count)s poste(s) %(of_job_title)s ajouté(s)"),
    "position_removed": _l("%(employer)s : %(count)s poste(s) %(of_job_title)s retiré(s)"),
    "position_withdrawal_requested": _l(
        "%(employer)s : retrait de %(count)s poste(s) %(of_job_title)s, par avenant"
    ),
    "position_withdrawal_cancelled": _l(
        "%(employer)s : retrait des postes %(of_job_title)s annulé"
    ),
    "analysis_updated": _l("Analyse des besoins (publics, diagnostic) mise à jour"),
    "figure_added": _l("Chiffre clé ajouté au diagnostic : %(label)s"),
    "figure_removed": _l("Chiffre clé retiré du diagnostic : %(label)s"),
    "analysis_sent": _l("Analyse des besoins et adaptations transmises à la Région"),
    "analysis_answered": _l("La Région répond à l'analyse des besoins"),
    "design_started": _l("Co-conception commencée, pré-remplie depuis l'analyse des besoins"),
    "design_section_saved": _l("Co-conception : section « %(section)s » enregistrée"),
    "design_conflict": _l("Co-conception : modifications concurrentes sur « %(section)s »"),
    "design_section_validated": _l("Co-conception : section « %(section)s » validée"),
    "design_section_reopened": _l("Co-conception : section « %(section)s » rouverte"),
    "design_approved": _l("La Région approuve la co-conception"),
    "design_comment": _l("Co-conception : commentaire sur « %(section)s »"),
    "design_comment_resolved": _l("Co-conception : commentaire résolu sur « %(section)s »"),
    "design_comment_reopened": _l("Co-conception : commentaire rouvert sur « %(section)s »"),
    "convention_started": _l("Convention de partenariat %(reference)s préparée"),
    "convention_clause_saved": _l("Convention : article « %(section)s » enregistré"),
    "convention_submitted": _l("Convention : version %(number)s soumise aux signatures"),
    "convention_signed": _l("Convention : version %(number)s signée"),
    "convention_reminded": _l("Convention : relance d'un·e signataire de la version %(number)s"),
    "convention_validated": _l("La Région valide la version %(number)s de la convention"),
    "amendment_applied": _l(
        "Avenant en vigueur : les parties et promesses qu'il ajoute ou retire s'appliquent"
    ),
    "convention_rejected": _l(
        "La Région rejette la version %(number)s de la convention : %(reason)s"
    ),
    "promises_created": _l("%(created)s promesse(s) d'embauche créée(s) à partir des postes"),
    "promises_updated": _l(
        "Promesses d'embauche mises à jour : %(created)s ajoutée(s), %(removed)s retirée(s)"
    ),
    "trainees_added": _l("%(count)s candidature(s) enregistrée(s)"),
    "candidate_proposed": _l("%(prescriber)s propose une candidature"),
    "recruitment_session_planned": _l("Session de recrutement prévue le %(when)s"),
    "recruitment_session_invited": _l(
        "Session du %(when)s : %(candidates)s candidature(s) et %(employers)s employeur(s) "
        "invité(s)"
    ),
    "non_lasting_accepted": _l(
        "La Région accepte la promesse non durable « %(job_title)s » (%(contract)s) "
        "%(of_employer)s : %(reason)s"
    ),
    "training_start_decided": _l("Démarrage anticipé de la formation décidé : %(reason)s"),
    "immersions_generated": _l("%(count)s immersion(s) créée(s) depuis le rythme de l'alternance"),
    "immersion_added": _l("Immersion ajoutée chez %(employer)s"),
    "immersion_updated": _l("Immersion chez %(employer)s modifiée"),
    "immersion_removed": _l("Immersion chez %(employer)s supprimée"),
    "immersion_prepared": _l("Immersion chez %(employer)s prête"),
    "tutor_suggested": _l("Tuteur·rice suggéré·e %(to_employer)s pour une immersion"),
    "tutor_designated": _l("%(employer)s désigne le ou la tuteur·rice d'une immersion"),
    "tutor_withdrawn": _l("%(employer)s retire le ou la tuteur·rice d'une immersion"),
    "assessment_recorded": _l("%(employer)s évalue une immersion"),
    "assessment_updated": _l("%(employer)s met à jour l'évaluation d'une immersion"),
    "debrief_recorded": _l("Retour d'expérience enregistré (%(count)s stagiaire(s))"),
    "evaluation_planned": _l("Évaluation planifiée : %(invited)s personne(s) invitée(s)"),
    "evaluation_attendance": _l("Évaluation : %(attended)s présence(s) d'employeurs notée(s)"),
    "evaluation_results": _l("Évaluation : %(count)s résultat(s) enregistré(s)"),
    "exit_recorded": _l("Sortie de formation enregistrée (%(reason)s)"),
    "promise_kept": _l("%(employer)s : promesse « %(job)s » tenue"),
    "promise_not_kept": _l("%(employer)s : promesse « %(job)s » non tenue"),
    "followup_answered": _l("Suivi dans l'emploi (%(milestone)s) renseigné par %(party)s"),
    "followup_reconciled": _l("Suivi dans l'emploi (%(milestone)s) : réponse retenue"),
    "steering_committee_created": _l("La Région constitue le comité de pilotage"),
    "steering_member_added": _l("Comité de pilotage : %(member)s en devient membre"),
    "steering_member_removed": _l("Comité de pilotage : %(member)s n'en est plus membre"),
    "steering_meeting_convened": _l("Comité de pilotage « %(title)s » convoqué"),
    "steering_meeting_updated": _l("Comité de pilotage « %(title)s » modifié"),
    "steering_meeting_cancelled": _l("Comité de pilotage « %(title)s » annulé"),
    "steering_attendance_recorded": _l(
        "Comité de pilotage « %(title)s » : %(present)s présence(s) relevée(s)"
    ),
    "steering_minutes_opened": _l("Comité de pilotage « %(title)s » : compte rendu ouvert"),
    "steering_minutes_saved": _l("Comité de pilotage : compte rendu enregistré"),
    "steering_minutes_approved": _l(
        "Comité de pilotage « %(title)s » : compte rendu approuvé par l'organisme porteur"
    ),
    "steering_decision_added": _l("Comité de pilotage : décision enregistrée"),
    "steering_decision_removed": _l("Comité de pilotage : décision retirée"),
    "steering_action_added": _l("Comité de pilotage : action confiée à %(owner)s"),
    "steering_action_removed": _l("Comité de pilotage : action retirée"),
    "steering_action_done": _l("Comité de pilotage : action « %(title)s » faite"),
}


# Details that name someone or something a title may put after « de » or « à ».
NAMED = ("participant", "person", "employer", "job_title")

# Events carrying the details of one employer's need (positions, counts, job titles). As on
# the analysis page, they read in full for that employer and for those who steer the
# operation; the other participants only learn that an employer updated its need.
NEED_DETAIL_EVENTS = {
    "employer_need_updated",
    "position_added",
    "position_removed",
    "position_withdrawal_requested",
    "position_withdrawal_cancelled",
}


def _hides_need_details(event: OperationEvent) -> bool:
    """True when the viewer may not read this employer's need details (issue #11 L15)."""
    if event.kind not in NEED_DETAIL_EVENTS:
        return False
    org = current_org()
    if org is not None and org.id == event.organisation_id:
        return False
    # The operation is already loaded by the page: ``get`` reads the identity map.
    return not can_steer(db.session.get(Operation, event.operation_id))


def _title_of(enum_cls, value):
    try:
        return enum_cls(value).title
    except ValueError:
        return value


def describe(event: OperationEvent) -> str:
    """The French sentence for one timeline event, as the current organisation may read it."""
    if _hides_need_details(event):
        return _("Un employeur met à jour ses besoins")
    detail = dict(event.detail or {})
    for key in ("source", "target"):
        if key in detail:
            detail[key] = _title_of(Status, detail[key])
    if "role" in detail:
        detail["role"] = _title_of(ParticipantRole, detail["role"])
    if "funding" in detail:
        detail["funding"] = _title_of(Funding, detail["funding"])
    if "section" in detail:
        detail["section"] = _title_of(SectionKey, detail["section"])
    if "milestone" in detail:
        detail["milestone"] = _title_of(MilestoneKind, detail["milestone"]).lower()
    if event.kind == "exit_recorded":
        detail["reason"] = _title_of(ExitReason, detail.get("reason")).lower()
    for key in NAMED:  # « Besoins d'Entreprise E », « suggéré·e à l'Agence… »
        if key in detail:
            detail[f"of_{key}"], detail[f"to_{key}"] = de(detail[key]), a(detail[key])
    template = EVENT_TITLES.get(event.kind)
    if template is None:
        return event.kind
    try:
        return str(template) % detail if "%(" in str(template) else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template).split("%(")[0].rstrip(" :")


def category_title(value) -> str:
    return _title_of(Category, value)
