"""The "Fiche de co-conception" as a Word document (python-docx).

Built from the styles of python-docx's default template only (Title, Heading n,
List Bullet, Table Grid), so that it opens cleanly in Word and LibreOffice; table
header rows repeat on each page and the text is declared French (spell-checking,
screen readers).
"""

from copy import deepcopy
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import docx
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.text.run import Run
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.core.text import document_text
from portal.core.time import utcnow
from portal.design.content import skill_askers
from portal.design.diffs import ItemFormatter
from portal.design.models import Design, SectionKey
from portal.design.rhythm import PERIOD_KINDS, hours_issues, periods, totals
from portal.extensions import db
from portal.operations.models import Operation, Participant

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
AUTHOR = "Portail DEFI"
LANGUAGE = "fr-FR"


def filename(operation: Operation) -> str:
    """The name the browser saves the file under."""
    return f"fiche-co-conception-{operation.id}.docx"


def _not_filled() -> str:
    return _("Non renseigné")


def _date(value) -> str:
    return format_date(value, "d MMMM y") if value else _not_filled()


def _hours(value) -> str:
    return _("%(h)s h", h=value) if value not in (None, "") else _not_filled()


@cache
def _template() -> bytes:
    """python-docx's default template, read from disk once per process."""
    return (Path(docx.__file__).parent / "templates" / "default.docx").read_bytes()


def new_document():
    """A new document from python-docx's default template (what ``Document()`` opens)."""
    return Document(BytesIO(_template()))


@cache
def style_id(name: str, kind: WD_STYLE_TYPE = WD_STYLE_TYPE.PARAGRAPH) -> str | None:
    """The id of the default template's style ``name`` (None for the default of its type),
    looked up once per process: python-docx scans every style of the document for the
    type's default on each lookup by name, a quarter of a convention's build."""
    return new_document().styles.get_style_id(name, kind)


def _set_language(document) -> None:
    """Declare the document's text French in its default run properties."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    run_defaults = defaults.find(qn("w:rPrDefault"))
    if run_defaults is None:
        run_defaults = OxmlElement("w:rPrDefault")
        defaults.insert(0, run_defaults)
    properties = run_defaults.find(qn("w:rPr"))
    if properties is None:
        properties = OxmlElement("w:rPr")
        run_defaults.append(properties)
    language = properties.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        properties.append(language)
    language.set(qn("w:val"), LANGUAGE)


def paragraph(document, text, style: str | None = None):
    """A paragraph of ``text``; every writer adds text through these helpers, which pass it
    through ``document_text`` (a control character stored in a title must not make the
    document fail)."""
    added = document.add_paragraph(document_text(text))
    if style:
        added._p.style = style_id(style)  # what ``Paragraph.style = name`` sets
    return added


def heading(document, text, level: int):
    """A heading of ``text`` (see ``paragraph``), styled as ``Document.add_heading`` does."""
    if not 0 <= level <= 9:
        raise ValueError(f"heading level {level} is not between 0 and 9")
    return paragraph(document, text, "Title" if level == 0 else f"Heading {level}")


def set_properties(document, *, title, subject, keywords: str, created) -> None:
    """The document's properties: author, language, title and subject (cleaned)."""
    properties = document.core_properties
    properties.title = document_text(title)
    properties.subject = document_text(subject)
    properties.author = properties.last_modified_by = AUTHOR
    properties.language = LANGUAGE
    properties.keywords = document_text(keywords)
    properties.created = properties.modified = created


def _table(document, headers: list[str], rows: list[list[str]], footer: list[list[str]] = ()):
    """A grid table whose header row repeats on every page; ``footer`` rows in bold."""
    table = document.add_table(rows=1, cols=len(headers))
    table._tbl.tblStyle_val = style_id("Table Grid", WD_STYLE_TYPE.TABLE)
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, text in zip(header.cells, headers, strict=True):
        _cell_text(cell._tc, text, bold=True)
    widths = [column.w for column in table._tbl.tblGrid.gridCol_lst]
    _add_rows(table._tbl, widths, rows, bold=False)
    _add_rows(table._tbl, widths, footer, bold=True)
    return table


def _add_rows(tbl, widths: list, rows: list[list[str]], *, bold: bool) -> None:
    """Rows as ``Table.add_row()`` adds them with each cell's text set as ``_Cell.text``
    sets it (bold: an empty run, then the text in a bold run), built without python-docx's
    proxies: ``_Row.cells`` looks for vertically merged cells with XPath on every cell and
    each child element is placed by a search of its siblings, which made the tables more
    than half of a convention's DOCX (issue #16). The first row is built by python-docx's
    element methods, the others are copies of it with their texts replaced: the same XML,
    byte for byte (tests/design/test_documents.py)."""
    rows = iter(rows)
    values = next(rows, None)
    if values is None:
        return
    first = tbl.add_tr()
    for width, text in zip(widths, values, strict=True):
        tc = first.add_tc()
        if width is not None:
            tc.width = width
        _cell_text(tc, text, bold=bold)
    for values in rows:
        tr = deepcopy(first)
        for tc, text in zip(tr.iterchildren(qn("w:tc")), values, strict=True):
            tc[-1][-1].text = document_text(text)  # the cell's paragraph's last run
        tbl.append(tr)


def _cell_text(tc, text: str, *, bold: bool) -> None:
    """``cell.text = text``, or for ``bold``, ``cell.text = ""`` then a bold run of ``text``
    (what the tables always wrote)."""
    tc.clear_content()
    run = tc.add_p().add_r()
    if bold:
        run.text = ""
        run = run.getparent().add_r()
        Run(run, None).bold = True
    run.text = document_text(text)


def organisation_names(operation: Operation) -> dict[int, str]:
    """Names of every organisation that took part (items may point to a withdrawn one)."""
    rows = db.session.execute(
        select(Organisation.id, Organisation.name)
        .join(Participant, Participant.organisation_id == Organisation.id)
        .where(Participant.operation_id == operation.id)
    ).all()
    return dict(rows)


def _header(document, operation: Operation, design: Design) -> None:
    certification = " — ".join(
        part for part in (operation.certification_code, operation.certification_title) if part
    )
    planned = _not_filled()
    if operation.hours_centre is not None or operation.hours_company is not None:
        centre, company = operation.hours_centre or 0, operation.hours_company or 0
        planned = _(
            "%(c)d h en centre, %(e)d h en entreprise, %(t)d h au total",
            c=centre,
            e=company,
            t=centre + company,
        )
    dates = _not_filled()
    if operation.session_start or operation.session_end:
        dates = _(
            "du %(a)s au %(b)s", a=_date(operation.session_start), b=_date(operation.session_end)
        )
    facts = [
        (_("Intitulé de l'opération"), operation.title),
        (
            _("Organisme de formation porteur"),
            operation.provider.name if operation.provider else _not_filled(),
        ),
        (_("Bassin d'emploi"), operation.territory.name),
        (_("Dates de la session"), dates),
        (
            _("Effectif ciblé"),
            str(operation.target_headcount) if operation.target_headcount else _not_filled(),
        ),
        (_("Heures prévues"), planned),
        (_("Certification visée"), certification or _not_filled()),
        (
            _("Approbation de la Région"),
            _("approuvée le %(d)s", d=_date(design.approved_at))
            if design.approved_at
            else _("pas encore approuvée"),
        ),
    ]
    _table(document, [_("Rubrique"), _("Valeur")], [list(fact) for fact in facts])


def render_text(document, text: str | None) -> None:
    """One paragraph per non-blank line of ``text`` ("Non renseigné" when there is none)."""
    lines = [line for line in document_text(text).splitlines() if line.strip()]
    for line in lines or [_not_filled()]:
        paragraph(document, line)


def _skills(document, content: dict, formatter: ItemFormatter) -> None:
    items = content.get("items", [])
    if not items:
        paragraph(document, _not_filled())
    for item in items:
        text = item.get("label", "")
        askers = ", ".join(formatter.value("employer_id", i) for i in skill_askers(item))
        details = [
            _("bloc %(c)s", c=item["block_code"]) if item.get("block_code") else "",
            _("demandée par %(o)s", o=askers) if askers else "",
        ]
        details = [d for d in details if d]
        paragraph(
            document, text + (f" ({', '.join(details)})" if details else ""), style="List Bullet"
        )


def _modules(document, content: dict, formatter: ItemFormatter) -> None:
    items = content.get("items", [])
    if not items:
        paragraph(document, _not_filled())
        return
    rows = []
    total = 0
    for item in items:
        place = formatter.value("place", item.get("place"))
        if item.get("employer_id"):
            place = f"{place} — {formatter.value('employer_id', item['employer_id'])}"
        skills = item.get("skill_ids") or []
        hours = item.get("hours")
        total += int(hours or 0)
        rows.append(
            [
                item.get("title", ""),
                _hours(hours),
                place,
                formatter.value("skill_ids", skills),
                item.get("trainer") or "",
            ]
        )
    _table(
        document,
        [_("Module"), _("Heures"), _("Lieu"), _("Compétences développées"), _("Intervenant")],
        rows,
        footer=[[_("Total"), _hours(total), "", "", ""]],
    )


class _Contents:
    """Section contents shaped like a Design for the rhythm helpers, which read
    ``design.section(key).content``: a frozen convention quotes contents, not rows."""

    def __init__(self, contents: dict[SectionKey, dict]):
        self.contents = contents

    def section(self, key: SectionKey) -> SimpleNamespace:
        return SimpleNamespace(content=self.contents.get(key, {}))


def _rhythm(document, content: dict, formatter: ItemFormatter) -> None:
    rhythm = _Contents({SectionKey.RHYTHM: content})
    items = periods(rhythm)
    if not items:
        paragraph(document, _not_filled())
    else:
        rows = [
            [
                str(PERIOD_KINDS.get(p.kind, p.kind)) + (f" — {p.label}" if p.label else ""),
                _date(p.start),
                _date(p.end),
                _hours(p.hours),
                formatter.value("employer_id", p.employer_id) if p.employer_id else "",
            ]
            for p in items
        ]
        sums = totals(rhythm)
        footer = [
            [_("Total : %(k)s", k=PERIOD_KINDS[kind]), "", "", _hours(sums[kind]), ""]
            for kind in PERIOD_KINDS
        ]
        footer.append([_("Total général"), "", "", _hours(sum(sums.values())), ""])
        _table(
            document,
            [_("Période"), _("Du"), _("Au"), _("Heures"), _("Entreprise")],
            rows,
            footer=footer,
        )


RENDERERS = {SectionKey.SKILLS: _skills, SectionKey.MODULES: _modules, SectionKey.RHYTHM: _rhythm}


def render_section(document, key: SectionKey, content: dict, formatter: ItemFormatter) -> None:
    """Write one design section from its stored ``content``: skills as a list, modules and
    rhythm as tables with totals, any other section as paragraphs of text."""
    renderer = RENDERERS.get(key)
    if renderer is None:
        render_text(document, content.get("text"))
    else:
        renderer(document, content, formatter)


def design_docx(operation: Operation, design: Design, *, stamp: datetime | None = None) -> bytes:
    """The "Fiche de co-conception" of ``operation``: header, then every section in order.

    ``stamp`` dates the document (its properties and « établi le »): now by default; the
    operation's archive passes the date of the state it records, so that the same state
    gives the same text.
    """
    when = stamp or utcnow()
    document = new_document()
    _set_language(document)
    set_properties(
        document,
        title=_("Fiche de co-conception — %(t)s", t=operation.title),
        subject=_("Co-conception de la formation DEFI"),
        keywords="DEFI; co-conception",
        created=when,
    )

    heading(document, _("Fiche de co-conception"), level=0)
    paragraph(document, operation.title, style="Subtitle")
    paragraph(document, _("Document établi le %(d)s par le Portail DEFI.", d=_date(when)))
    _header(document, operation, design)

    skills = design.section(SectionKey.SKILLS).content.get("items", [])
    skill_labels = {s.get("id"): s.get("label", "") for s in skills}
    org_names = organisation_names(operation)
    order = list(SectionKey)
    for section in sorted(design.sections, key=lambda s: order.index(s.key)):
        heading(document, section.key.title, level=1)
        if section.is_validated:
            paragraph(document, _("Section validée le %(d)s.", d=_date(section.validated_at)))
        render_section(
            document,
            section.key,
            section.content,
            ItemFormatter(section.key, org_names, skill_labels),
        )
        issues = hours_issues(design) if section.key == SectionKey.RHYTHM else []
        if issues:
            paragraph(document, _("Points de cohérence à vérifier :"))
            for issue in issues:
                paragraph(document, issue, style="List Bullet")

    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
