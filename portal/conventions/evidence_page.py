"""The evidence page of the convention document ("Dossier de preuve"), and how the
document writes dates and states (French, stored UTC times shown in Paris time too).

Everything here comes from stored evidence: signatures with who, how, when and from
where, the Région's decision, and the version's chained audit events.
"""

import re
from datetime import date, datetime

from docx.enum.text import WD_BREAK
from docx.shared import Cm, Pt
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.anchors import Anchor, event_anchor
from portal.audit.models import AuditEvent
from portal.conventions.models import ConventionVersion, VersionStatus
from portal.conventions.services import AUTH_PASSWORD
from portal.conventions.signing import AUTH_PASSWORD_TOTP
from portal.core.fingerprints import for_document
from portal.core.french import de
from portal.design.documents import _table, heading, paragraph
from portal.extensions import db

DOWNLOADED = "convention.downloaded"
VALIDATED = "convention.validated"
ACTION_TITLES = {
    "convention.submitted": _l("Soumission aux signatures"),
    "convention.opened": _l("Première ouverture par un lecteur"),
    "convention.signed": _l("Signature"),
    "convention.version_voided": _l("Annulation de la version"),
    "convention.reminded": _l("Relance d'un signataire"),
    VALIDATED: _l("Validation par la Région"),
    "convention.rejected": _l("Rejet par la Région"),
}
# N°, date, event, by, IP, chain hash (a 16 cm wide text area).
JOURNAL_WIDTHS = (1.0, 2.2, 2.8, 3.4, 2.2, 4.4)
# A hash in a table cell (``hash_cell``), in a monospaced font sized so that its lines fit:
# four blocks of 8 in a two-column table at 9 pt (6.7 cm), two in the journal's 4.4 cm
# column at 8 pt (2.9 cm). A line never breaks inside a block.
HASH_FONT = "Courier New"
HASH_PER_LINE, JOURNAL_HASH_PER_LINE = 4, 2
HASH_CELL = re.compile(r"[0-9a-f]{8}(?:[\u00a0\n][0-9a-f]{8})+")
AUTH_METHODS = {
    AUTH_PASSWORD: _l("mot de passe saisi de nouveau au moment de signer"),
    AUTH_PASSWORD_TOTP: _l(
        "mot de passe et code de double authentification saisis de nouveau au moment de signer"
    ),
}


# ---- formatting ---------------------------------------------------------------------------


def page_break(document) -> None:
    """Start a new page (before the parties, before the evidence)."""
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def hash_cell(digest: str, per_line: int = HASH_PER_LINE) -> str:
    """A SHA-256 as a table cell shows it: blocks of 8, ``per_line`` blocks a line."""
    return for_document(digest, per_line)


def hash_fonts(table, size: float = 9) -> None:
    """The cells of ``table`` that hold a ``hash_cell`` in a monospaced font of ``size``."""
    for row in table.rows:
        for cell in row.cells:
            if HASH_CELL.fullmatch(cell.text):
                for cell_paragraph in cell.paragraphs:
                    for run in cell_paragraph.runs:
                        run.font.name = HASH_FONT
                        run.font.size = Pt(size)


def not_filled() -> str:
    """What the document says where a value is missing."""
    return _("Non renseigné")


def day(value) -> str:
    """A date (ISO text or date) in French, e.g. « 4 janvier 2027 »."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, "d MMMM y") if value else not_filled()


def paris(value: datetime) -> str:
    """A stored (naive UTC) time in Paris time, e.g. « 4 janvier 2027 à 09:30:12 »."""
    return format_datetime(value, "d MMMM y 'à' HH:mm:ss")


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def status_text(version: ConventionVersion) -> str:
    """Where the version stands, in French, with the date of the Région's decision."""
    status = version.status
    if status in (VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED):
        return _("En cours de signature")
    if status == VersionStatus.SIGNED:
        return _("Signée par toutes les parties, en attente de la validation de la Région")
    if status == VersionStatus.VALIDATED:
        return _("Validée par la Région le %(d)s", d=day(version.validated_at))
    if status == VersionStatus.SUPERSEDED:
        return _(
            "Validée par la Région le %(d)s, remplacée par un avenant le %(s)s",
            d=day(version.validated_at),
            s=day(version.superseded_at),
        )
    if status == VersionStatus.REJECTED:
        return _("Rejetée par la Région le %(d)s", d=day(version.rejected_at))
    if status == VersionStatus.VOIDED:
        return _("Annulée le %(d)s", d=day(version.voided_at))
    return str(status.title)


# ---- the evidence page ----------------------------------------------------------------------


def validation_anchor(version: ConventionVersion) -> Anchor | None:
    """The audit chain's head when the Région validated ``version`` (the hash of its
    validation event), printed on the evidence page so that every party's copy anchors the
    log: ``None`` before the validation."""
    if version.validated_at is None:
        return None
    event = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == ConventionVersion.__name__,
            AuditEvent.object_id == version.id,
            AuditEvent.action == VALIDATED,
        )
        .order_by(AuditEvent.seq)
        .limit(1)
    ).first()
    return event_anchor(event)


def anchor_text(anchor: Anchor) -> str:
    """How to use the anchor, in a sentence under the evidence table."""
    return _(
        "Ancre du journal d'audit : à la validation, le journal comptait %(seq)s évènements "
        "et l'empreinte du dernier est celle indiquée ci-dessus. Une réécriture ultérieure "
        "du journal se détecte avec la commande « flask --app portal audit verify --anchor "
        "%(anchor)s ».",
        seq=anchor.seq,
        anchor=str(anchor),
    )


def version_events(version: ConventionVersion) -> list[AuditEvent]:
    """The audit events of ``version`` in chain order, downloads excepted.

    A file cannot list its own downloads and stay reproducible: each download would
    change the next copy. Downloads stay in the audit log, outside the document.
    """
    return db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == ConventionVersion.__name__,
            AuditEvent.object_id == version.id,
            AuditEvent.action != DOWNLOADED,
        )
        .order_by(AuditEvent.seq)
        .options(selectinload(AuditEvent.actor), selectinload(AuditEvent.organisation))
    ).all()


def _signature_evidence(document, signature) -> None:
    title = _("Signature %(of_org)s", of_org=de(signature.organisation.name))
    if not signature.is_valid:
        title = _("%(title)s — annulée", title=title)
    heading(document, title, level=2)
    rows = [
        [_("Signataire"), signature.user.full_name],
        [_("Organisation"), signature.organisation.name],
        [_("Qualité"), signature.capacity],
        [_("Date et heure (UTC)"), _utc(signature.signed_at)],
        [_("Date et heure (Paris)"), paris(signature.signed_at)],
        [_("Adresse IP"), signature.ip or not_filled()],
        [_("Navigateur (user agent)"), signature.user_agent or not_filled()],
        [
            _("Authentification"),
            str(AUTH_METHODS.get(signature.auth_method, signature.auth_method)),
        ],
        [_("Empreinte SHA-256 signée"), hash_cell(signature.version_sha256)],
        [_("Consentement exprimé"), signature.consent_text],
    ]
    if not signature.is_valid:
        rows.append(
            [
                _("Annulation"),
                _(
                    "annulée le %(d)s : %(why)s",
                    d=paris(signature.voided_at),
                    why=signature.void_reason,
                ),
            ]
        )
    hash_fonts(_table(document, [_("Élément"), _("Preuve")], rows))


def _events(document, version: ConventionVersion) -> None:
    heading(document, _("Journal d'audit de la version"), level=2)
    paragraph(
        document,
        _(
            "Chaque évènement du journal porte l'empreinte de l'évènement précédent : "
            "modifier ou supprimer un évènement rompt la chaîne, ce que la commande de "
            "vérification du journal détecte."
        ),
    )
    rows = []
    for event in version_events(version):
        who = event.actor.full_name if event.actor else _("le portail")
        if event.organisation:
            who = f"{who} ({event.organisation.name})"
        action = ACTION_TITLES.get(event.action, event.action)
        chain = hash_cell(event.hash, JOURNAL_HASH_PER_LINE)
        rows.append([str(event.seq), _utc(event.at), str(action), who, event.ip or "—", chain])
    headers = [_("N°"), _("Date (UTC)"), _("Évènement"), _("Par"), _("Adresse IP")]
    table = _table(document, [*headers, _("Empreinte de chaînage")], rows)
    _compact(table, JOURNAL_WIDTHS)
    hash_fonts(table, 8)


def _compact(table, widths_cm: tuple[float, ...]) -> None:
    """Small print and set column widths: six columns, one a 64-digit hash, fit a page."""
    table.autofit = False
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)  # the grid, which LibreOffice reads
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)
            for cell_paragraph in cell.paragraphs:
                for run in cell_paragraph.runs:
                    run.font.size = Pt(8)


def add_evidence(document, version: ConventionVersion) -> None:
    """The "Dossier de preuve": the version's hash, each signature's evidence (voided
    ones marked annulée with why), the Région's decision and the chained audit events."""
    page_break(document)
    heading(document, _("Dossier de preuve"), level=1)
    paragraph(
        document,
        _(
            "Ce dossier établit, pour chaque signature électronique, l'identité du "
            "signataire, son consentement et le lien de sa signature avec le texte de cette "
            "version (Code civil, articles 1366 et 1367)."
        ),
    )
    submitter = version.submitted_by.full_name
    rows = [
        [_("Référence"), version.convention.reference],
        [_("Version"), str(version.number)],
        [_("Empreinte SHA-256 de la version"), hash_cell(version.sha256)],
        [
            _("Calcul de l'empreinte"),
            _("SHA-256 du texte canonique de la version (JSON trié, UTF-8)"),
        ],
        [_("Soumise le (UTC)"), _utc(version.submitted_at)],
        [_("Soumise par"), f"{submitter} ({version.submitted_org.name})"],
        [_("État de la version"), status_text(version)],
    ]
    anchor = validation_anchor(version)
    if version.validated_at is not None:
        rows.append([_("Validée le (UTC)"), _utc(version.validated_at)])
        rows.append([_("Validée par"), version.validated_by.full_name])
    if anchor is not None:
        rows.append([_("Ancre du journal d'audit : évènement n°"), str(anchor.seq)])
        rows.append([_("Ancre du journal d'audit : empreinte"), hash_cell(anchor.hash)])
    if version.rejected_at is not None:
        rows.append([_("Rejetée le (UTC)"), _utc(version.rejected_at)])
        rows.append([_("Motif du rejet"), version.reject_reason])
    if version.voided_at is not None:
        rows.append([_("Motif de l'annulation"), version.void_reason])
    hash_fonts(_table(document, [_("Élément"), _("Preuve")], rows))
    signatures = sorted(version.signatures, key=lambda s: (s.signed_at, s.id))
    if not signatures:
        paragraph(document, _("Aucune signature n'a encore été donnée."))
    if anchor is not None:
        paragraph(document, anchor_text(anchor))
    for signature in signatures:
        _signature_evidence(document, signature)
    _events(document, version)
