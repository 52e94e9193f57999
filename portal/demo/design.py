"""Demo co-design of « Préparateur·rice de commandes et cariste »: most sections written
by the organisme and the employer, a rhythm consistent with 420 h in centre and 140 h in
company, one module on the employer's technical platform — and the Région's approval still
to give, so that the demo shows the last step of the gate. The organisme asks the employer,
in a comment that mentions her, to confirm the platform's hours: a question in her « À
faire » (not blocking, so that the gate stays open)."""

from datetime import timedelta

from portal.design import services
from portal.design.comments import add_comment
from portal.design.models import Design, SectionKey
from portal.operations.models import Operation

OBJECTIVES = """\
Former dix personnes éloignées de l'emploi au métier de préparateur·rice de commandes en \
entrepôt, avec la conduite de chariots (CACES R489 catégories 1 et 3).
Présenter le titre professionnel Préparateur de commandes en entrepôt (RNCP38413) en fin \
de parcours.
Recruter les stagiaires en CDI ou en CDD de plus de six mois chez les employeurs signataires \
dès la sortie de formation."""

PEDAGOGY = """\
Alternance de séquences en centre (plateau logistique pédagogique de Forma'Centre) et de \
périodes en entreprise préparées, accompagnées et suivies d'un retour d'expérience.
Pédagogie par situations professionnelles : préparation de vraies commandes, inventaires, \
réception de palettes.
Séances de conduite en petits groupes (4 stagiaires par formateur·rice et par chariot).
Un·e référent·e unique suit chaque stagiaire, y compris pour les freins périphériques \
(mobilité, horaires décalés)."""

EVALUATION = """\
Évaluations en cours de formation à la fin de chaque module, avec les tuteur·rices pour les \
périodes en entreprise.
Tests CACES R489 catégories 1 et 3 passés auprès d'un organisme testeur certifié.
Session d'examen du titre professionnel Préparateur de commandes en entrepôt ; les employeurs \
sont invités au jury."""

MEANS = """\
Plateau logistique pédagogique de 400 m² (racks, transpalettes, scanners, logiciel de gestion \
d'entrepôt).
Deux chariots de catégorie 1 et un chariot de catégorie 3 ; le quai de Transports et \
Logistique du Loiret pour la semaine sur plateau technique.
Formatrice conduite et logistique, formateur savoirs de base, conseillère en insertion."""

PUBLIC_EXTRA = (
    "Entrée en formation après une information collective et une visite d'entrepôt "
    "organisées avec France Travail et la Mission locale."
)

ATTENTION_EXTRA = (
    "Prévoir le covoiturage pour la semaine sur le quai : premier créneau à 5 h, avant les "
    "premiers bus."
)

SKILLS = [
    ("Préparer des commandes à partir d'un bon ou d'un terminal (scanner)", "RNCP38413BC01"),
    ("Réceptionner, contrôler et stocker des marchandises", "RNCP38413BC02"),
    ("Appliquer les gestes et postures et les règles de sécurité en entrepôt", ""),
    ("Conduire en sécurité des chariots de catégories 1 et 3 (CACES R489)", ""),
    ("Lire les étiquettes et documents de transport en anglais technique", ""),
]

# (title, hours, place, skill indexes, trainer); "platform" is at the logistics employer.
MODULES = [
    ("Accueil, positionnement et sécurité en entrepôt", 35, "centre", [2], "Amélie Roux"),
    ("Préparation de commandes : bons, scanner, picking", 140, "centre", [0], "Amélie Roux"),
    ("Réception et stockage des marchandises", 35, "centre", [1], "Amélie Roux"),
    ("Gestes et postures, prévention des risques", 35, "centre", [2], "Amélie Roux"),
    ("Conduite de chariots R489 cat. 1 et 3 (plateau du centre)", 105, "centre", [3], ""),
    ("Conduite sur le quai de l'entreprise", 35, "platform", [3], "Thomas Lefèvre, tuteur"),
    ("Anglais technique et préparation au titre professionnel", 35, "centre", [4], ""),
    ("Recherche d'emploi et préparation de l'embauche", 35, "centre", [], "Youssef Amara"),
]

# (kind, first day, last day (days after the session's start), hours, employer?, label)
PERIODS = [
    ("centre", 0, 25, 140, False, "Sécurité, préparation de commandes"),
    ("immersion", 28, 32, 35, False, "Découverte des entrepôts signataires"),
    ("centre", 35, 60, 140, False, "Réception, stockage, début de la conduite"),
    ("platform", 63, 67, 35, True, "Conduite sur le quai"),
    ("centre", 70, 95, 140, False, "Conduite, anglais technique, préparation du titre"),
    ("immersion", 98, 109, 70, False, "Immersion avant embauche"),
]


def _lines(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def _save(section, content, by, org) -> None:
    services.save_section(
        section, content, base_version=section.version, by=by, org=org, steering=True
    )


def load_demo_design(operation: Operation, design: Design, *, orgs: dict, people: dict) -> None:
    """Fill the started design of the logistics operation (see the module's docstring)."""
    carrier, of_admin = orgs["of1"], people["of_admin"]
    logistics, employer = orgs["logistics"], people["employer"]
    section = design.section

    _save(section(SectionKey.OBJECTIVES), {"text": OBJECTIVES}, of_admin, carrier)
    public = section(SectionKey.PUBLIC)
    _save(public, {"text": _lines(public.content["text"], PUBLIC_EXTRA)}, of_admin, carrier)

    # The prefilled skills (from the employer's need) give their ids to the reworded ones.
    prefilled = [item["id"] for item in section(SectionKey.SKILLS).content["items"]]
    skills = []
    for index, (label, block) in enumerate(SKILLS):
        skill_id = prefilled[index] if index < len(prefilled) else services.new_id()
        skills.append(
            {"id": skill_id, "label": label, "block_code": block, "employer_id": logistics.id}
        )
    # The bakery hires order pickers too: the first skill is asked by both (issue #15).
    skills[0]["also_asked_by"] = [orgs["bakery"].id]
    _save(section(SectionKey.SKILLS), {"items": skills}, employer, logistics)

    modules = [
        {
            "id": services.new_id(),
            "title": title,
            "hours": hours,
            "place": place,
            "employer_id": logistics.id if place == "platform" else None,
            "skill_ids": [skills[i]["id"] for i in skill_indexes],
            "trainer": trainer,
        }
        for title, hours, place, skill_indexes, trainer in MODULES
    ]
    _save(section(SectionKey.MODULES), {"items": modules}, of_admin, carrier)

    start = operation.session_start
    periods = [
        {
            "id": services.new_id(),
            "kind": kind,
            "start": (start + timedelta(days=first)).isoformat(),
            "end": (start + timedelta(days=last)).isoformat(),
            "hours": hours,
            "employer_id": logistics.id if at_employer else None,
            "label": label,
        }
        for kind, first, last, hours, at_employer, label in PERIODS
    ]
    _save(section(SectionKey.RHYTHM), {"items": periods}, of_admin, carrier)

    _save(section(SectionKey.PEDAGOGY), {"text": PEDAGOGY}, of_admin, carrier)
    _save(section(SectionKey.EVALUATION), {"text": EVALUATION}, of_admin, carrier)
    _save(section(SectionKey.MEANS), {"text": MEANS}, of_admin, carrier)
    attention = section(SectionKey.ATTENTION)
    text = _lines(attention.content["text"], ATTENTION_EXTRA)
    _save(attention, {"text": text}, employer, logistics)

    # The skills, agreed with the employer, are validated: only the organisme and the Région
    # change them now. The other sections stay open to every participant.
    services.set_validated(section(SectionKey.SKILLS), True, by=of_admin, org=carrier)

    add_comment(
        section(SectionKey.MODULES),
        "Pouvez-vous confirmer que le plateau technique reste disponible pour les 35 h du "
        "module « Conduite de chariots » aux dates du rythme ?",
        by=of_admin,
        org=carrier,
        mention_users=[employer],
    )
