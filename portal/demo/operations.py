"""Demo market lots and five DEFI operations at different steps (fictitious contents)."""

from datetime import date, timedelta

from portal.accounts import services as accounts
from portal.demo.design import load_demo_design
from portal.design.services import design_for
from portal.extensions import db
from portal.lots.models import Category, LotTrade, MarketLot
from portal.operations import lifecycle, needs, services
from portal.operations.models import ContractType, Operation, ParticipantRole, Status


def _lot(number, title, category, holder, territories, codes) -> MarketLot:
    lot = MarketLot(
        number=number,
        title=title,
        category=category,
        holder=holder,
        period_start=2024,
        period_end=2027,
        territories=territories,
        trades=[LotTrade(rome_code=c) for c in codes],
    )
    db.session.add(lot)
    return lot


def load_demo_lots(territories: dict, orgs: dict) -> None:
    """Four lots of the regional market held by the two demo organismes de formation."""
    t = territories
    _lot(
        "2024-45-03",
        "Préparateur·rice de commandes et cariste",
        Category.SE_FORMER,
        orgs["of1"],
        [t["ORL"], t["MTG"]],
        ["N1103", "N1101"],
    )
    _lot(
        "2024-45-11",
        "Assistant·e de vie aux familles",
        Category.SE_FORMER,
        orgs["of1"],
        [t["ORL"]],
        ["K1302", "K1304"],
    )
    _lot(
        "2024-37-12",
        "Agent·e de propreté et d'hygiène",
        Category.SE_FORMER,
        orgs["of2"],
        [t["TRS"], t["BLO"]],
        ["K2204", "K2201"],
    )
    _lot(
        "2024-28-02",
        "Prépa Métiers — industrie et logistique",
        Category.PREPA_METIERS,
        orgs["of1"],
        [t["CHR"]],
        ["H2903", "N1103"],
    )
    _lot(
        "2024-45-16",
        "Boulanger·ère",
        Category.SE_FORMER,
        orgs["of1"],
        [t["ORL"], t["MTG"]],
        ["D1102"],
    )
    _lot(
        "2024-41-04",
        "Chantier formation — aménagement et entretien des espaces verts",
        Category.CHANTIER_FORMATION,
        orgs["of2"],
        [t["BLO"]],
        ["A1203"],
    )
    _lot(
        "2024-37-20",
        "Prépa Métiers — découverte des métiers du bâtiment",
        Category.PREPA_METIERS,
        orgs["of2"],
        [t["TRS"]],
        ["F1703", "F1606"],
    )


def build_logistics_operation(
    title: str, start: date, *, territories: dict, orgs: dict, people: dict
) -> Operation:
    """An Orléans logistics operation under of1's lot, taken to co-design with its design
    filled (employers: the logistics company and the bakery; partners: France Travail and
    the Mission locale)."""
    region = orgs["region"]
    operation = services.report_need(
        {
            "title": title,
            "category": Category.SE_FORMER,
            "territory": territories["ORL"],
            "rome_code": "N1103",
            "trades": "Préparation de commandes, conduite de chariots (CACES R489)",
            "positions_estimate": 8,
            "desired_start": start - timedelta(days=10),
            "context": (
                "Deux entrepôts de la zone des Montées recrutent pour l'ouverture d'une "
                "plateforme de distribution régionale. Difficultés de recrutement sur les "
                "postes de préparation et de cariste ; les employeurs acceptent des personnes "
                "sans expérience si la formation inclut le CACES."
            ),
            "employers": [orgs["logistics"], orgs["bakery"]],
        },
        by=people["of_admin"],
        org=orgs["of1"],
    )
    services.add_participant(
        operation,
        orgs["france_travail"],
        ParticipantRole.PARTNER_EMPLOYMENT,
        by=people["of_admin"],
        org=orgs["of1"],
    )
    services.add_participant(
        operation,
        orgs["mission_locale"],
        ParticipantRole.PARTNER_ORIENTATION,
        by=people["of_admin"],
        org=orgs["of1"],
    )
    services.update_operation(
        operation,
        {
            "session_start": start,
            "session_end": start + timedelta(days=140),
            "target_headcount": 10,
            "hours_centre": 420,
            "hours_company": 140,
            "certification_code": "RNCP38413",
            "certification_title": "Titre professionnel Préparateur de commandes en entrepôt",
        },
        by=people["of_admin"],
        org=orgs["of1"],
    )
    services.acknowledge_need(
        operation,
        by=people["referent_orleans"],
        org=region,
        comment="Besoin cohérent avec le diagnostic du bassin d'Orléans.",
    )
    lifecycle.advance(operation, Status.ANALYSIS, by=people["of_admin"], org=orgs["of1"])
    need = needs.need_for(operation, orgs["logistics"])
    needs.save_employer_need(
        need,
        {
            "skills": (
                "Lecture de bons de préparation, scanner, gestes et postures, "
                "CACES R489 cat. 1 et 3"
            ),
            "constraint_hours": "Travail en équipes 5h-13h / 13h-21h",
            "constraint_mobility": "Zone non desservie la nuit : véhicule ou covoiturage",
            "constraint_licence": "",
            "constraint_physical": "Port de charges, station debout",
            "technical_platform": (
                "Quai et chariots disponibles le samedi pour les séances de conduite"
            ),
        },
        by=people["employer"],
        org=orgs["logistics"],
    )
    needs.add_position(
        need,
        {
            "job_title": "Préparateur·rice de commandes",
            "rome_code": "N1103",
            "count": 4,
            "contract_type": ContractType.CDI,
            "planned_start": start + timedelta(days=145),
        },
        by=people["employer"],
        org=orgs["logistics"],
    )
    needs.add_position(
        need,
        {
            "job_title": "Cariste",
            "rome_code": "N1101",
            "count": 2,
            "contract_type": ContractType.CDD,
            "duration_months": 12,
            "planned_start": start + timedelta(days=145),
        },
        by=people["employer"],
        org=orgs["logistics"],
    )
    bakery_need = needs.need_for(operation, orgs["bakery"])
    needs.add_position(
        bakery_need,
        {
            "job_title": "Préparateur·rice de commandes (fournil central)",
            "rome_code": "N1103",
            "count": 2,
            "contract_type": ContractType.CDI,
            "planned_start": None,
        },
        by=people["baker"],
        org=orgs["bakery"],
    )
    analysis = needs.analysis_for(operation)
    needs.save_analysis(
        analysis,
        {
            "target_publics": ["job_seekers", "youth", "rsa"],
            "barriers": ["mobility", "digital"],
            "barriers_detail": "Horaires décalés et zone d'activité mal desservie.",
            "prerequisites": "Savoirs de base, aptitude médicale au port de charges",
            "accompaniment": (
                "Aide au permis et au covoiturage, référent unique tout au long du parcours"
            ),
            "prescribers": "France Travail Orléans Est, Mission locale de l'Orléanais",
            "diagnosis": "La logistique représente 9 % de l'emploi salarié du bassin ; "
            "les offres de préparateur de commandes restent ouvertes plus de 60 jours.",
            "diagnosis_links": "",
            "adaptations": "Ajouter 35 h de conduite sur le quai de l'entreprise et un module "
            "d'anglais technique pour la lecture des étiquettes.",
        },
        by=people["of_admin"],
        org=orgs["of1"],
    )
    needs.add_figure(
        analysis,
        {
            "label": "Offres d'emploi de préparateur·rice (12 mois)",
            "value": "312",
            "source": "France Travail, 2026",
        },
        by=people["of_admin"],
        org=orgs["of1"],
    )
    needs.send_analysis(analysis, by=people["of_admin"], org=orgs["of1"])
    needs.answer_analysis(
        analysis,
        "Adaptations validées ; prévoir le module de conduite dans le rythme d'alternance.",
        by=people["referent_orleans"],
        org=region,
    )
    lifecycle.advance(operation, Status.CO_DESIGN, by=people["of_admin"], org=orgs["of1"])
    load_demo_design(operation, design_for(operation), orgs=orgs, people=people)

    return operation


def load_demo_operations(*, territories: dict, orgs: dict, people: dict) -> None:
    """Four operations: one per early step, and the employer demo account in exactly one."""
    load_demo_lots(territories, orgs)
    today = date.today()
    region = orgs["region"]

    # 1. Orléans, under of1's lot, in co-design: employeur@ takes part here (and in the
    # running operation of portal/demo/running.py).
    build_logistics_operation(
        "Préparateur·rice de commandes et cariste",
        today + timedelta(days=100),
        territories=territories,
        orgs=orgs,
        people=people,
    )

    # 2. Tours, under of2's lot, in needs analysis.
    cleaning_op = services.report_need(
        {
            "title": "Agent·e de propreté et d'hygiène",
            "category": Category.SE_FORMER,
            "territory": territories["TRS"],
            "rome_code": "K2204",
            "trades": "Agent·e de service hospitalier, agent·e d'entretien",
            "positions_estimate": 6,
            "desired_start": today + timedelta(days=60),
            "context": "Résidences et établissements de santé de Tours Nord : postes vacants "
            "d'agents de service, turn-over élevé.",
            "employers": [orgs["care"]],
        },
        by=people["of2_admin"],
        org=orgs["of2"],
    )
    services.acknowledge_need(cleaning_op, by=people["referent_tours"], org=region)
    lifecycle.advance(cleaning_op, Status.ANALYSIS, by=people["of2_admin"], org=orgs["of2"])
    care_need = needs.need_for(cleaning_op, orgs["care"])
    needs.add_position(
        care_need,
        {
            "job_title": "Agent·e de service hospitalier",
            "rome_code": "K2204",
            "count": 3,
            "contract_type": ContractType.CDI,
            "planned_start": None,
        },
        by=people["care_admin"],
        org=orgs["care"],
    )

    # 3. Châteauroux, outside any lot: the Région opened a FREF consultation.
    production_op = services.report_need(
        {
            "title": "Opérateur·rice de production",
            "category": Category.SE_FORMER,
            "territory": territories["CHX"],
            "rome_code": "H2102",
            "trades": "Conduite de ligne de conditionnement",
            "positions_estimate": 10,
            "desired_start": today + timedelta(days=120),
            "context": "Extension d'une unité agroalimentaire de la zone d'Ozans ; "
            "aucun lot du marché ne couvre ce métier sur le bassin.",
            "new_employers": [
                ("Conserverie du Boischaut", "rh@conserverie-boischaut.example", "90000000008012")
            ],
        },
        by=people["of_admin"],
        org=orgs["of1"],
    )
    services.acknowledge_need(production_op, by=people["region_admin"], org=region)
    # The employer the organisme invited is confirmed by the Région (it may then sign);
    # the one invited in 4. stays « à vérifier ».
    for participant in production_op.active_participants():
        if not participant.organisation.is_verified:
            accounts.verify_organisation(participant.organisation, by=people["region_admin"])
    services.launch_fref(
        production_op,
        reference="FREF-2026-014",
        provider=orgs["of1"],
        by=people["region_admin"],
        org=region,
    )

    # 4. Orléans, just reported: the Région has not acknowledged it yet.
    services.report_need(
        {
            "title": "Assistant·e de vie aux familles",
            "category": Category.SE_FORMER,
            "territory": territories["ORL"],
            "rome_code": "K1302",
            "trades": "Aide à domicile auprès de personnes âgées",
            "positions_estimate": 12,
            "desired_start": today + timedelta(days=150),
            "context": "Trois services d'aide à domicile ne peuvent plus assurer toutes les "
            "interventions demandées ; besoin de personnes mobiles sur l'agglomération.",
            "new_employers": [
                ("Présence Domicile 45", "direction@presence-domicile45.example", "90000000008020")
            ],
        },
        by=people["of_admin"],
        org=orgs["of1"],
    )
