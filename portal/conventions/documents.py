"""The convention as a Word document, built only from a frozen version and its evidence.

The text comes from the version's canonical snapshot (what was signed; for an amendment,
preceded by what it changes in the version it amends: ``document_changes.py``), the
signature table and the evidence page ("Dossier de preuve") from the stored signatures
and the version's audit events. Generation is deterministic: the same version in the same state
gives the same bytes (fixed document properties, fixed zip entry dates and order), so
the SHA-256 recorded in ``IssuedDocument`` identifies a genuine copy.
"""

import hashlib
import json
import zipfile
from datetime import datetime
from functools import cache
from importlib.metadata import version as package_version
from io import BytesIO
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import inspect, select

from portal.accounts.models import Organisation, User
from portal.conventions.diffs import item_formatter
from portal.conventions.document_changes import add_changes
from portal.conventions.evidence_page import (
    add_evidence,
    day,
    hash_cell,
    hash_fonts,
    not_filled,
    page_break,
    paris,
    status_text,
    version_events,
)
from portal.conventions.models import ConventionVersion, IssuedDocument
from portal.conventions.services import signing_parties, snapshot_of
from portal.conventions.state import amended_version
from portal.core import storage
from portal.core.fingerprints import for_document
from portal.core.locking import first_or_add
from portal.core.text import document_text
from portal.core.urls import absolute_url
from portal.design.diffs import ItemFormatter
from portal.design.documents import (
    AUTHOR,
    DOCX_MIMETYPE,
    _set_language,
    _table,
    heading,
    new_document,
    paragraph,
    render_section,
    render_text,
)
from portal.design.models import SectionKey
from portal.extensions import db

__all__ = [
    "DOCX_MIMETYPE",
    "convention_docx",
    "filename",
    "normalise",
    "paris",
    "record_issued",
    "status_text",
    "stored_docx",
]

DOCX, PDF = "docx", "pdf"
A4 = (Cm(21), Cm(29.7))


def filename(version: ConventionVersion, kind: str = DOCX) -> str:
    """The name the browser saves the file under: reference and version number."""
    return f"convention-{version.convention.reference}-v{version.number}.{kind}"


def sha256_of(data: bytes) -> str:
    """The SHA-256 of a file, as recorded and as shown (64 lowercase hex digits)."""
    return hashlib.sha256(data).hexdigest()


# ---- the parts of the document ------------------------------------------------------------


def _footer(document, version: ConventionVersion) -> None:
    """Reference, version and short hash on every page, with « page n / total »."""
    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run(
        _(
            "Convention %(ref)s — v%(n)s — empreinte %(hash)s — page ",
            ref=version.convention.reference,
            n=version.number,
            hash=for_document(version.short_hash),
        )
    )
    _field(footer, "PAGE")
    footer.add_run(" / ")
    _field(footer, "NUMPAGES")


def _field(paragraph, instruction: str) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _facts(operation: dict) -> list[list[str]]:
    lot = operation.get("lot")
    market = not_filled()
    if lot:
        market = _("lot n° %(n)s — %(t)s", n=lot["number"], t=lot["title"])
    elif operation.get("fref_reference"):
        market = _("FREF %(r)s", r=operation["fref_reference"])
    centre, company = operation.get("hours_centre"), operation.get("hours_company")
    hours = not_filled()
    if centre is not None or company is not None:
        hours = _(
            "%(c)d h en centre, %(e)d h en entreprise, %(t)d h au total",
            c=centre or 0,
            e=company or 0,
            t=(centre or 0) + (company or 0),
        )
    start, end = operation.get("session_start"), operation.get("session_end")
    certification = " — ".join(
        p for p in (operation.get("certification_code"), operation.get("certification_title")) if p
    )
    return [
        [_("Opération"), operation["title"]],
        [_("Bassin d'emploi"), operation["territory"]],
        [_("Catégorie"), operation["category_title"]],
        [_("Marché ou consultation"), market],
        [
            _("Dates de la session"),
            _("du %(a)s au %(b)s", a=day(start), b=day(end)) if start or end else not_filled(),
        ],
        [_("Effectif ciblé"), str(operation.get("target_headcount") or not_filled())],
        [_("Heures prévues"), hours],
        [_("Certification visée"), certification or not_filled()],
    ]


def _title_page(document, version: ConventionVersion, snapshot: dict) -> None:
    region = document.add_paragraph()
    region.alignment = WD_ALIGN_PARAGRAPH.CENTER
    region.add_run(_("Région Centre-Val de Loire")).bold = True
    heading(document, _("Convention de partenariat DEFI"), level=0)
    paragraph(document, snapshot["operation"]["title"], style="Subtitle")
    if version.is_amendment:
        paragraph(
            document,
            _("Avenant à la version %(n)s", n=snapshot.get("amends_version") or "—"),
            style="Subtitle",
        )
    number = str(version.number)
    if version.is_amendment:
        number = _("%(n)s (avenant)", n=version.number)
    rows = [
        [_("Référence"), version.convention.reference],
        [_("Version"), number],
        *_facts(snapshot["operation"]),
        [_("Soumise aux signatures le (heure de Paris)"), paris(version.submitted_at)],
        [_("État de la version"), status_text(version)],
        [_("Empreinte SHA-256 de la version"), hash_cell(version.sha256)],
    ]
    hash_fonts(_table(document, [_("Rubrique"), _("Valeur")], rows))
    public = absolute_url("verification.verify")
    paragraph(
        document,
        _(
            "L'empreinte SHA-256 identifie le texte de cette version : toute modification en "
            "produit une autre. Un exemplaire peut être vérifié sur %(url)s.",
            url=public,
        ),
    )


def _parties(document, snapshot: dict) -> None:
    heading(document, _("Les parties"), level=1)
    rows = [[p["name"], p["siret"] or not_filled(), p["role_title"]] for p in snapshot["parties"]]
    _table(document, [_("Partie"), _("SIRET"), _("Rôle")], rows)
    if snapshot.get("dual_memberships"):  # issue #11 M6: the Région's approvals, as signed
        heading(document, _("Cumuls d'appartenance approuvés par la Région"), level=2)
        for entry in snapshot["dual_memberships"]:
            paragraph(document, entry["text"])


def _promises(document, snapshot: dict) -> None:
    heading(document, _("Promesses d'emploi des employeurs"), level=1)
    promises = snapshot["promises"]
    if not promises:
        paragraph(document, not_filled())
        return
    # A version frozen before issue #12 (format 1) keeps the table it was signed with.
    says_lasting = snapshot.get("format", 1) >= 2
    rows = [
        [
            p["employer"],
            p["job_title"],
            p["rome_code"] or "",
            str(p["count"]),
            p["contract_title"],
            *([_lasting(p)] if says_lasting else []),
            day(p["planned_start"]) if p["planned_start"] else "",
        ]
        for p in promises
    ]
    total = sum(p["count"] for p in promises)
    headers = [_("Employeur"), _("Poste"), _("Code ROME"), _("Nombre"), _("Contrat")]
    if says_lasting:
        headers.append(_("Emploi durable"))
    _table(
        document,
        [*headers, _("Embauche prévue")],
        rows,
        footer=[[_("Total"), "", "", str(total)] + [""] * (len(headers) - 3)],
    )


def _lasting(promise: dict) -> str:
    """« Emploi durable » as the convention says it, with the Région's acceptance of a
    non-lasting promise (issue #12)."""
    if promise["lasting"]:
        return _("Oui")
    if promise.get("region_acceptance"):
        return _("Non — acceptée par la Région : %(reason)s", reason=promise["region_acceptance"])
    return _("Non — ne compte pas pour « 1 stagiaire pour 1 promesse » sans l'accord de la Région")


def _articles(document, snapshot: dict) -> None:
    for number, clause in enumerate(snapshot["clauses"], start=1):
        heading(document, _("Article %(n)d — %(t)s", n=number, t=clause["title"]), level=1)
        render_text(document, clause["content"].get("text"))


def _annex(document, snapshot: dict) -> None:
    heading(document, _("Annexe — La formation co-conçue"), level=1)
    for section in snapshot["design"]:
        key = SectionKey(section["key"])
        formatter = item_formatter(key.value, snapshot) or ItemFormatter(key)
        heading(document, section["title"], level=2)
        render_section(document, key, section["content"], formatter)


def _signature_table(document, version: ConventionVersion, snapshot: dict) -> None:
    heading(document, _("Signatures"), level=1)
    by_org = {s.organisation_id: s for s in version.signatures}
    rows = []
    for party in signing_parties(snapshot):
        signature = by_org.get(party["organisation_id"])
        if signature is None:
            rows.append([party["name"], "—", "—", _("en attente")])
        elif not signature.is_valid:
            rows.append([party["name"], signature.user.full_name, signature.capacity, _("annulée")])
        else:
            rows.append(
                [
                    party["name"],
                    signature.user.full_name,
                    signature.capacity,
                    paris(signature.signed_at),
                ]
            )
    region = next((p["name"] for p in snapshot["parties"] if p["role"] == "region"), None)
    decision = _("en attente de validation")
    validator = "—"
    if version.validated_at is not None:
        decision, validator = paris(version.validated_at), version.validated_by.full_name
    elif version.rejected_at is not None:
        decision = _("rejetée le %(d)s", d=paris(version.rejected_at))
        validator = version.rejected_by.full_name
    rows.append([region or _("Région"), validator, _("validation par la Région"), decision])
    _table(document, [_("Partie"), _("Signataire"), _("Qualité"), _("Date")], rows)


# ---- assembling, normalising, recording --------------------------------------------------


def convention_docx(version: ConventionVersion) -> bytes:
    """The DOCX of ``version`` in its current state; always the same bytes for one state."""
    with force_locale("fr"):
        return normalise(_build(version), version.submitted_at)


# ---- the kept copy: built once per state of the version ----------------------------------


def stored_docx(version: ConventionVersion) -> bytes:
    """The DOCX of ``version`` in its current state, built once per state and kept.

    A version's text is frozen, but its document changes as parties sign, as the Région
    decides, as a signature is voided, as a name changes: the copy is kept under the hash
    of every input the document renders (``state_key``), so a new state gets a new file
    and an old one is never served for it. Reading the inputs costs a few queries; the
    build it spares is the slow part (python-docx, ~0.1 s for a convention). Kept in the
    generated files' storage (``DOCUMENTS_DIR``), shared by every host, beside the PDFs;
    writing a new state's copy removes the earlier states' (their PDFs, named by the DOCX's
    own hash, stay: a person may still be waiting for one).
    """
    name = f"conventions/{version.id}/docx-{state_key(version)}.docx"
    data = storage.read(name)
    if data is None:
        data = convention_docx(version)
        storage.write(name, data)  # atomic: two requests building at once write the same
        storage.remove_others(name, "docx-*.docx")  # the earlier states' copies
    return data


def state_key(version: ConventionVersion) -> str:
    """The SHA-256 of everything ``convention_docx`` renders for ``version``: its row, its
    convention's reference, the amended version's text, its signatures, its audit events
    (downloads excepted, as the document leaves them out), the names of the people and
    organisations they show, the public address and time zone it prints, and the code
    that builds it (``_generator``). Whatever changes the document changes this key."""
    _loaded = _preload_signers(version)  # kept referenced while the names are read
    amended = amended_version(version)
    people = [version.submitted_by, version.validated_by, version.rejected_by]
    organisations = [version.submitted_org]
    signatures = []
    for signature in version.signatures:
        people.append(signature.user)
        organisations.append(signature.organisation)
        signatures.append(_columns(signature))
    events = []
    for event in version_events(version):
        people.append(event.actor)
        organisations.append(event.organisation)
        events.append(_columns(event))
    inputs = {
        "generator": _generator(),
        "public_url": current_app.config["PUBLIC_URL"],
        "timezone": current_app.config.get("BABEL_DEFAULT_TIMEZONE"),
        "version": _columns(version),
        "reference": version.convention.reference,
        "amended": amended.sha256 if amended is not None else None,
        "signatures": signatures,
        "events": events,
        "people": {p.id: p.full_name for p in people if p is not None},
        "organisations": {o.id: o.name for o in organisations if o is not None},
    }
    text = json.dumps(inputs, sort_keys=True, default=str, ensure_ascii=False)
    return sha256_of(text.encode())


def _columns(row) -> dict:
    """Every column of ``row``, by name (a column added later is covered at once)."""
    return {c.key: getattr(row, c.key) for c in inspect(row).mapper.column_attrs}


@cache
def _generator() -> str:
    """The SHA-256 of the portal's code and python-docx's version, once per process: a
    deployment that could change how a document is written starts new copies."""
    digest = hashlib.sha256(package_version("python-docx").encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _preload_signers(version: ConventionVersion) -> list:
    """Load the signatures' users and organisations in two queries: their lazy loads then
    hit the identity map instead of one query per signature."""
    users = {s.user_id for s in version.signatures}
    orgs = {s.organisation_id for s in version.signatures}
    return [
        *db.session.scalars(select(User).where(User.id.in_(users))),
        *db.session.scalars(select(Organisation).where(Organisation.id.in_(orgs))),
    ]


def _build(version: ConventionVersion) -> bytes:
    _loaded = _preload_signers(version)  # kept referenced while the document is built
    snapshot = snapshot_of(version)
    reference = version.convention.reference
    document = new_document()
    _set_language(document)
    properties = document.core_properties
    properties.title = _(
        "Convention de partenariat DEFI %(ref)s v%(n)s", ref=reference, n=version.number
    )
    properties.subject = document_text(snapshot["operation"]["title"])
    properties.author = properties.last_modified_by = AUTHOR
    properties.comments = version.sha256
    properties.keywords = f"DEFI; convention; {reference}"
    properties.language = "fr-FR"
    properties.revision = 1
    properties.created = properties.modified = version.submitted_at
    section = document.sections[0]
    section.page_width, section.page_height = A4
    section.left_margin = section.right_margin = Cm(2)
    _footer(document, version)
    _title_page(document, version, snapshot)
    page_break(document)
    add_changes(document, version, snapshot)
    _parties(document, snapshot)
    _promises(document, snapshot)
    _articles(document, snapshot)
    _annex(document, snapshot)
    _signature_table(document, version, snapshot)
    add_evidence(document, version)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def normalise(data: bytes, when: datetime) -> bytes:
    """Rewrite the package with fixed entry dates and order: python-docx stamps the
    current time on every zip entry, which would make each copy differ."""
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    output = BytesIO()
    with (
        zipfile.ZipFile(BytesIO(data)) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        # [Content_Types].xml first, as Office writes it; then by name.
        names = sorted(source.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
        for name in names:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            target.writestr(info, source.read(name))
    return output.getvalue()


def record_issued(
    version: ConventionVersion, kind: str, data: bytes, *, by, signatures: int
) -> IssuedDocument:
    """Record a generated file (once per distinct file) so that copies can be verified.

    ``signatures`` is the count of valid signatures the file carries. Two requests may
    record the same new file at once: the loser finds the winner's row.
    """
    digest = sha256_of(data)
    query = select(IssuedDocument).where(
        IssuedDocument.version_id == version.id, IssuedDocument.sha256 == digest
    )
    return first_or_add(
        query,
        lambda: IssuedDocument(
            version_id=version.id,
            kind=kind,
            sha256=digest,
            size=len(data),
            signatures=signatures,
            generated_by_id=getattr(by, "id", None),
        ),
    )
