"""The register of processing (« registre des traitements », RGPD art. 30), declared once.

Each ``Processing`` says what personal data it holds (as the model's columns, so the
declaration cannot drift from the schema: ``tests/privacy/test_register.py`` fails naming
any personal column of the models that no processing declares, and any declared column
that no longer exists), why, on which legal basis, who sees it (by role) and for how long.
The Région admins' page (``/administration/registre-des-traitements``) and the public
« Données personnelles » page are rendered from it.

What counts as a personal column (the test's rule, written here so it is read with the
declaration): every column, but keys, of a table that describes a trainee (``trainees``
and every table below it through foreign keys: status history, proposals, opinions,
immersions, debriefs, evaluations, follow-ups, access log); and, in any table, a column
whose name says it identifies or reaches a person (``PERSONAL_NAMES``, also as the end of
a name: ``new_email``). A pointer to a
user's account (``created_by_id``…) is a key: the accounts processing covers the person.
"""

from dataclasses import dataclass
from enum import Enum

from flask import current_app
from flask_babel import lazy_gettext as _l

# Column names that identify or reach a person wherever they appear.
PERSONAL_NAMES = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "phone",
        "birth_year",
        "ip",
        "user_agent",
        "recipient",
        "key",
        "password_hash",
        "token_hash",
        "code_hash",
        "totp_secret",
        "consent_text",
    }
)

# Columns named like personal data that are not, with the reason (reviewed like code).
NOT_PERSONAL = {
    "organisations.email": "the organisation's generic contact address, not a person's",
    "organisations.phone": "the organisation's switchboard, not a person's",
    "design_sections.key": "which section of the training design (a name in the code)",
}


class LegalBasis(Enum):
    """The lawful bases of RGPD art. 6.1 the portal relies on, with their French title."""

    PUBLIC_TASK = "public_task"
    LEGAL_OBLIGATION = "legal_obligation"
    CONSENT = "consent"

    @property
    def title(self) -> str:
        return str(_BASIS_TITLES[self])


_BASIS_TITLES = {
    LegalBasis.PUBLIC_TASK: _l(
        "Mission d'intérêt public (art. 6.1.e du RGPD) : la formation professionnelle, "
        "compétence de la Région (art. L6121-1 du code du travail)"
    ),
    LegalBasis.LEGAL_OBLIGATION: _l(
        "Obligation légale (art. 6.1.c du RGPD) : sécurité des traitements (art. 32) et "
        "preuve des signatures électroniques (art. 1366 et 1367 du code civil)"
    ),
    LegalBasis.CONSENT: _l("Consentement de la personne (art. 6.1.a du RGPD)"),
}


@dataclass(frozen=True)
class DataCategory:
    """A category of personal data and the columns that hold it (``table.column``)."""

    label: object
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Recipient:
    """Who sees the data (a role) and what of it."""

    role: object
    sees: object


@dataclass(frozen=True)
class Retention:
    """How long the data is kept: a French sentence where ``%(months)s`` is the value of
    ``config`` (a configuration key) when one is given."""

    text: object
    config: str = ""

    def describe(self) -> str:
        if not self.config:
            return str(self.text)
        return str(self.text) % {"months": current_app.config[self.config]}


@dataclass(frozen=True)
class Processing:
    """One processing of personal data, as the register shows it."""

    key: str
    name: object
    purposes: tuple[object, ...]
    basis: LegalBasis
    people: object
    categories: tuple[DataCategory, ...]
    recipients: tuple[Recipient, ...]
    retention: Retention

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(column for category in self.categories for column in category.columns)


def _cols(table: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{table}.{name}" for name in names)


PROCESSINGS: tuple[Processing, ...] = (
    Processing(
        key="trainees",
        name=_l("Recrutement, parcours et suivi dans l'emploi des stagiaires DEFI"),
        purposes=(
            _l("Recruter les stagiaires avec les employeurs et les prescripteurs"),
            _l("Organiser la formation, les immersions, les retours d'expérience, les évaluations"),
            _l("Suivre les stagiaires dans l'emploi (sortie, 3 et 6 mois), en rendre compte"),
            _l("Produire les indicateurs du dispositif (statistiques sans nom)"),
        ),
        basis=LegalBasis.PUBLIC_TASK,
        people=_l("Candidat·e·s et stagiaires des opérations DEFI"),
        categories=(
            DataCategory(
                _l("Identité et coordonnées"),
                _cols("trainees", "first_name", "last_name", "email", "phone", "birth_year"),
            ),
            DataCategory(
                _l("Situation et candidature"),
                _cols(
                    "trainees",
                    "public_category",
                    "status",
                    "status_changed_at",
                    "exit_date",
                    "exit_reason",
                    "exit_detail",
                    "created_at",
                    "anonymised_at",
                )
                + _cols("trainee_status_changes", "from_status", "to_status", "at", "reason")
                + _cols("candidate_proposals", "proposed_at", "consent_text")
                + _cols("session_candidates", "invited_at", "attendance")
                + _cols("candidate_opinions", "verdict", "comment", "version", "given_at"),
            ),
            DataCategory(
                _l("Immersions, retours d'expérience et évaluations"),
                _cols(
                    "immersions",
                    "starts_on",
                    "ends_on",
                    "period_id",
                    "objectives",
                    "objectives_agreed",
                    "tutor_briefed",
                    "practical_details",
                    "safety_ppe",
                    "agreement_reference",
                    "prepared_at",
                    "reminder_sent_at",
                    "created_at",
                )
                + _cols("debrief_trainees", "attended")
                + _cols("debrief_skills", "skill_id", "skill_label", "level", "comment")
                + _cols("evaluation_results", "outcome", "blocks", "comment")
                + _cols(
                    "tutor_assessments",
                    "presence",
                    "feedback",
                    "would_hire",
                    "submitted_at",
                    "updated_at",
                    "superseded_at",
                )
                + _cols("skill_ratings", "skill_id", "skill_label", "level", "comment"),
            ),
            DataCategory(
                _l("Suivi dans l'emploi"),
                _cols(
                    "followup_milestones",
                    "kind",
                    "due_on",
                    "status",
                    "version",
                    "reminded_at",
                    "overdue_reminded_at",
                    "escalated_at",
                    "created_at",
                )
                + _cols(
                    "followup_answers",
                    "party",
                    "situation",
                    "duration_months",
                    "employer_name",
                    "job_title",
                    "working_time",
                    "contacted_on",
                    "channel",
                    "comment",
                    "reconciliation",
                    "created_at",
                )
                + _cols("followup_attempts", "attempted_on", "channel", "note", "created_at")
                + _cols("followup_retained_answers", "basis", "note", "decided_at"),
            ),
        ),
        recipients=(
            Recipient(_l("Organisme de formation porteur"), _l("Tout, pour ses opérations")),
            Recipient(
                _l("Région (administrateurs et référents)"),
                _l("Tout, pour les opérations qu'elle pilote"),
            ),
            Recipient(
                _l("Prescripteur (France Travail, Mission locale, Cap emploi)"),
                _l("Les candidat·e·s qu'il a orienté·e·s"),
            ),
            Recipient(
                _l("Employeur d'accueil et tuteur·rice désigné·e"),
                _l("Le nom et ce que l'immersion demande, sans les coordonnées"),
            ),
        ),
        retention=Retention(
            _l(
                "Jusqu'au suivi à 6 mois après la sortie de formation (pour un·e candidat·e "
                "non entré·e en formation : la dernière décision sur sa candidature), puis "
                "%(months)s mois ; ensuite anonymisées (nom remplacé par « Stagiaire n° », "
                "coordonnées et commentaires effacés, statistiques gardées)."
            ),
            "RETENTION_TRAINEE_MONTHS",
        ),
    ),
    Processing(
        key="accounts",
        name=_l("Comptes des utilisateur·rice·s et authentification"),
        purposes=(
            _l("Donner accès au portail aux membres des structures partenaires"),
            _l("Sécuriser la connexion (mot de passe, second facteur, réinitialisation)"),
        ),
        basis=LegalBasis.PUBLIC_TASK,
        people=_l("Membres de la Région, des organismes, des employeurs et des partenaires"),
        categories=(
            DataCategory(
                _l("Identité et coordonnées professionnelles"),
                _cols("users", "first_name", "last_name", "email", "phone")
                + _cols("invitations", "email")
                + _cols("email_changes", "new_email"),
            ),
            DataCategory(
                _l("Secrets d'authentification (empreintes uniquement, sauf le secret TOTP)"),
                _cols("users", "password_hash", "totp_secret")
                + _cols("recovery_codes", "code_hash")
                + _cols("invitations", "token_hash")
                + _cols("password_resets", "token_hash")
                + _cols("email_changes", "token_hash"),
            ),
        ),
        recipients=(
            Recipient(_l("Administrateur·rice·s de la structure"), _l("Ses membres")),
            Recipient(_l("Administrateur·rice·s de la Région"), _l("Tous les comptes")),
        ),
        retention=Retention(
            _l("Tant que la personne participe au dispositif ; désactivé à son départ.")
        ),
    ),
    Processing(
        key="access_logs",
        name=_l("Journaux d'accès et de connexion"),
        purposes=(
            _l("Tracer qui consulte les données des stagiaires"),
            _l("Détecter les accès frauduleux, protéger les comptes (sessions, échecs)"),
        ),
        basis=LegalBasis.LEGAL_OBLIGATION,
        people=_l("Utilisateur·rice·s du portail"),
        categories=(
            DataCategory(
                _l("Journal des accès aux fiches des stagiaires"),
                _cols("trainee_accesses", "trainee_ids", "action", "at", "ip"),
            ),
            DataCategory(
                _l("Sessions et tentatives de connexion"),
                _cols("user_sessions", "token_hash", "user_agent", "ip")
                + _cols("login_failures", "key"),
            ),
        ),
        recipients=(
            Recipient(_l("Administrateur·rice·s de la Région"), _l("Le journal des accès")),
            Recipient(_l("La personne elle-même"), _l("Ses sessions (« Mes sessions »)")),
        ),
        retention=Retention(
            _l("%(months)s mois (recommandation de la CNIL : 6 mois à 1 an), puis supprimés."),
            "ACCESS_LOG_RETENTION_MONTHS",
        ),
    ),
    Processing(
        key="evidence",
        name=_l("Journal d'audit et preuves des signatures"),
        purposes=(
            _l("Prouver qui a signé quelle version d'une convention, quand et comment"),
            _l("Garder une trace infalsifiable des actions (journal chaîné)"),
        ),
        basis=LegalBasis.LEGAL_OBLIGATION,
        people=_l("Utilisateur·rice·s du portail, signataires des conventions"),
        categories=(
            DataCategory(
                _l("Origine des actions du journal d'audit (adresse IP, navigateur)"),
                _cols("audit_events", "ip", "user_agent"),
            ),
            DataCategory(
                _l("Preuves de signature (adresse IP, navigateur, déclaration acceptée)"),
                _cols("convention_signatures", "ip", "user_agent", "consent_text"),
            ),
        ),
        recipients=(
            Recipient(_l("Région"), _l("Le journal et les preuves")),
            Recipient(_l("Signataires de la convention"), _l("La page de preuve de la convention")),
        ),
        retention=Retention(
            _l(
                "Preuves de signature : avec la convention archivée. Adresse IP et navigateur "
                "du journal d'audit : %(months)s mois, puis pseudonymisés sans rompre la "
                "chaîne (leur empreinte reste vérifiable)."
            ),
            "ACCESS_LOG_RETENTION_MONTHS",
        ),
    ),
    Processing(
        key="mail",
        name=_l("Courriels et notifications"),
        purposes=(_l("Prévenir les personnes des actions qui les attendent"),),
        basis=LegalBasis.PUBLIC_TASK,
        people=_l("Utilisateur·rice·s du portail"),
        categories=(
            DataCategory(
                _l("Destinataire et contenu des courriels"),
                _cols("outbox_messages", "recipient"),
            ),
        ),
        recipients=(Recipient(_l("La personne destinataire"), _l("Ses courriels")),),
        retention=Retention(
            _l(
                "Jusqu'à l'envoi (nouveaux essais compris), puis %(months)s mois ; l'objet "
                "ne nomme aucun·e stagiaire."
            ),
            "ACCESS_LOG_RETENTION_MONTHS",
        ),
    ),
)


def declared_columns() -> dict[str, str]:
    """Every declared ``table.column``, with the key of the processing that declares it."""
    return {column: p.key for p in PROCESSINGS for column in p.columns}


def processing(key: str) -> Processing:
    """The processing declared under ``key``."""
    return next(p for p in PROCESSINGS if p.key == key)


def _personal_name(name: str) -> bool:
    return name in PERSONAL_NAMES or any(name.endswith(f"_{word}") for word in PERSONAL_NAMES)


def personal_columns(metadata) -> set[str]:
    """The personal columns of ``metadata``'s tables, by the rule of this module's
    docstring: all but keys in ``trainees`` and the tables below it, and the columns named
    in ``PERSONAL_NAMES`` anywhere (less ``NOT_PERSONAL``)."""
    tables = metadata.tables
    below = {"trainees"}
    grown = True
    while grown:
        grown = False
        for table in tables.values():
            if table.name not in below and any(
                fk.column.table.name in below for fk in table.foreign_keys
            ):
                below.add(table.name)
                grown = True
    found = {
        f"{table.name}.{column.name}"
        for table in tables.values()
        for column in table.columns
        if not column.primary_key
        and ((table.name in below and not column.foreign_keys) or _personal_name(column.name))
    }
    return found - set(NOT_PERSONAL)
