"""Everything held on a trainee (RGPD art. 15 and 20), as JSON and as a Word document.

The export walks the register (``register.py``): every table a processing declares for
trainees, its rows that belong to this trainee (directly, or below one of their rows
through foreign keys: a follow-up's answers, an immersion's assessment and its ratings),
with every declared column. A column added to the register is exported without anyone
remembering to; the trainee's rows in the access log come with them.
"""

import json
from datetime import date, datetime
from enum import Enum
from io import BytesIO

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.assessment.documents import start_document
from portal.conventions.documents import normalise
from portal.core.time import utcnow
from portal.design.documents import _table
from portal.extensions import db
from portal.privacy.register import PROCESSINGS
from portal.recruitment.models import Trainee

# The processings whose data about a trainee the export gathers.
EXPORTED = ("trainees", "access_logs")

# The Word document's section titles (the JSON keeps the table names).
TITLES = {
    "trainees": _l("Fiche du ou de la stagiaire"),
    "trainee_status_changes": _l("Historique des statuts"),
    "candidate_proposals": _l("Proposition par le prescripteur"),
    "session_candidates": _l("Invitations aux réunions et job datings"),
    "candidate_opinions": _l("Avis des employeurs"),
    "immersions": _l("Immersions"),
    "debrief_trainees": _l("Participation aux retours d'expérience"),
    "debrief_skills": _l("Compétences vues en retour d'expérience"),
    "evaluation_results": _l("Résultats des évaluations"),
    "tutor_assessments": _l("Appréciations des tuteur·rice·s"),
    "skill_ratings": _l("Compétences observées par les tuteur·rice·s"),
    "followup_milestones": _l("Échéances du suivi dans l'emploi"),
    "followup_answers": _l("Réponses du suivi dans l'emploi"),
    "followup_attempts": _l("Tentatives de contact"),
    "followup_retained_answers": _l("Réponses retenues"),
    "trainee_accesses": _l("Consultations de la fiche (journal des accès)"),
}


def _tables() -> dict[str, list[str]]:
    """Declared columns by table, in the register's order, for the exported processings."""
    tables: dict[str, list[str]] = {}
    for processing in PROCESSINGS:
        if processing.key in EXPORTED:
            for column in processing.columns:
                table, name = column.split(".")
                tables.setdefault(table, []).append(name)
    return tables


def _parent(table) -> tuple[str, str, str] | None:
    """How ``table``'s rows reach a trainee: (column, parent table, parent column)."""
    for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
        if fk.column.table.name == "trainees":
            return fk.parent.name, "trainees", fk.column.name
    for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
        if fk.column.table.name in _tables() and fk.column.table.name != table.name:
            return fk.parent.name, fk.column.table.name, fk.column.name
    return None


def _value(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _ids(table_name: str, trainee_id: int, cache: dict) -> list[int]:
    """The ids of ``table_name``'s rows that belong to the trainee."""
    if table_name == "trainees":
        return [trainee_id]
    if table_name not in cache:
        table = db.metadata.tables[table_name]
        column, parent, parent_column = _parent(table)
        parent_ids = _ids(parent, trainee_id, cache)
        if parent_column != "id":
            raise ValueError(f"{table_name} reaches {parent} by {parent_column}")
        cache[table_name] = db.session.scalars(
            select(table.c.id).where(table.c[column].in_(parent_ids)).order_by(table.c.id)
        ).all()
    return cache[table_name]


def gather(trainee: Trainee) -> dict:
    """Every declared column of every row held on ``trainee``, by table (JSON-ready)."""
    cache: dict[str, list[int]] = {}
    data: dict[str, list[dict]] = {}
    for table_name, columns in _tables().items():
        table = db.metadata.tables[table_name]
        if table_name != "trainees" and _parent(table) is None:
            continue  # sessions, failed logins: about users, not trainees
        ids = _ids(table_name, trainee.id, cache)
        rows = db.session.execute(
            select(table.c.id, *(table.c[c] for c in columns))
            .where(table.c.id.in_(ids))
            .order_by(table.c.id)
        ).mappings()
        data[table_name] = [{k: _value(v) for k, v in row.items()} for row in rows]
    return {
        "trainee_id": trainee.id,
        "operation": {"id": trainee.operation_id, "title": trainee.operation.title},
        "prescriber": trainee.prescriber.name if trainee.prescriber else None,
        "exported_at": utcnow().replace(microsecond=0).isoformat(),
        "data": data,
    }


def to_json(trainee: Trainee) -> bytes:
    """The export as indented UTF-8 JSON."""
    return json.dumps(gather(trainee), ensure_ascii=False, indent=2).encode("utf-8")


def filename(trainee: Trainee, extension: str) -> str:
    """Ids only in the name: it shows in download lists and server logs."""
    return f"donnees-stagiaire-{trainee.id}.{extension}"


def to_docx(trainee: Trainee) -> bytes:
    """The export as a Word document: one section per table, one grid per row."""
    exported = gather(trainee)
    stamp = datetime.fromisoformat(exported["exported_at"])
    with force_locale("fr"):
        document = start_document(
            _("Données personnelles — stagiaire n° %(id)s", id=trainee.id),
            _("Données détenues sur un·e stagiaire (droit d'accès, RGPD art. 15)"),
            "DEFI; RGPD",
            stamp,
        )
        document.add_heading(_("Données détenues sur %(name)s", name=trainee.full_name), level=0)
        document.add_paragraph(
            _(
                "Opération : %(title)s. Export du %(at)s, établi à partir du registre des "
                "traitements du portail : chaque donnée enregistrée est reproduite.",
                title=exported["operation"]["title"],
                at=exported["exported_at"].replace("T", " "),
            )
        )
        for table_name, rows in exported["data"].items():
            document.add_heading(str(TITLES.get(table_name, table_name)), level=1)
            if not rows:
                document.add_paragraph(_("Aucune donnée."))
            for row in rows:
                _table(
                    document,
                    [_("Donnée"), _("Valeur")],
                    [[key, _text(value)] for key, value in row.items()],
                )
                document.add_paragraph()
        output = BytesIO()
        document.save(output)
    return normalise(output.getvalue(), stamp)


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
