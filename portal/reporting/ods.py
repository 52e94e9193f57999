"""The OpenDocument spreadsheet (ODS) of an export, written row by row.

ODS is the format the Référentiel général d'interopérabilité recommends to French
administrations, and LibreOffice's own. The maintained Python writers (odfpy, and the
libraries built on it) hold the whole document tree in memory before saving; the
LibreOffice path converts an existing file, which would mean writing another format first
and tying a worker up for seconds. An ODS is a zip of a few small XML files: this module
writes ``content.xml`` into the zip as the rows come (``ZipFile.open(..., "w")``), so
memory stays flat like the CSV and the XLSX. Typed cells: numbers as ``float``, dates as
``date`` with a JJ/MM/AAAA style, text as ``string`` (never a formula: an ODS cell is a
formula only through ``table:formula``, which is never written); a frozen header row and
column widths (``settings.xml``, ``style:column-width``).

tests/reporting/test_exports.py reads the file back with ``zipfile`` and ElementTree and
has LibreOffice convert it when it is installed.
"""

import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

from portal.reporting.exports import Column

MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
    'office:version="1.3"'
)
MANIFEST = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" \
manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="{MIMETYPE}"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""
STYLES = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles {NS}><office:styles/></office:document-styles>
"""
SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-settings {ns}><office:settings>
<config:config-item-set config:name="ooo:view-settings">
<config:config-item-map-indexed config:name="Views"><config:config-item-map-entry>
<config:config-item-map-named config:name="Tables"><config:config-item-map-entry \
config:name={sheet}>
<config:config-item config:name="VerticalSplitMode" config:type="short">2</config:config-item>
<config:config-item config:name="VerticalSplitPosition" config:type="int">1</config:config-item>
<config:config-item config:name="ActiveSplitRange" config:type="short">2</config:config-item>
<config:config-item config:name="PositionBottom" config:type="int">1</config:config-item>
</config:config-item-map-entry></config:config-item-map-named>
</config:config-item-map-entry></config:config-item-map-indexed>
</config:config-item-set></office:settings></office:document-settings>
"""
AUTOMATIC_STYLES = """<office:automatic-styles>
<number:date-style style:name="N-date"><number:day number:style="long"/>\
<number:text>/</number:text><number:month number:style="long"/><number:text>/</number:text>\
<number:year number:style="long"/>\
</number:date-style>
<style:style style:name="ce-date" style:family="table-cell" style:data-style-name="N-date"/>
<style:style style:name="ce-head" style:family="table-cell">\
<style:text-properties fo:font-weight="bold"/></style:style>
{columns}
</office:automatic-styles>"""


def _cell(value) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        value = "oui" if value else "non"
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
        return (
            f'<table:table-cell table:style-name="ce-date" office:value-type="date" '
            f'office:date-value="{day.isoformat()}"><text:p>{day:%d/%m/%Y}</text:p>'
            "</table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        '<table:table-cell office:value-type="string">'
        f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
    )


def ods_file(columns: list[Column], rows: Iterable[tuple], sheet: str):
    """The ODS in an anonymous temporary file, rewound (the caller sends and closes it)."""
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by send_file
    name = quoteattr(sheet[:31])
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as book:
        # The mimetype comes first, stored uncompressed: how a reader recognises an ODS.
        book.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/manifest.xml", MANIFEST)
        book.writestr("styles.xml", STYLES)
        book.writestr("settings.xml", SETTINGS.format(ns=NS, sheet=name))
        with book.open("content.xml", "w", force_zip64=True) as raw:

            def write(text: str) -> None:
                raw.write(text.encode("utf-8"))

            widths = "\n".join(
                f'<style:style style:name="co{i}" style:family="table-column">'
                f'<style:table-column-properties style:column-width="{c.width * 0.21:.2f}cm"/>'
                "</style:style>"
                for i, c in enumerate(columns)
            )
            write(f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {NS}>')
            write(AUTOMATIC_STYLES.format(columns=widths))
            write(f"<office:body><office:spreadsheet><table:table table:name={name}>")
            for i in range(len(columns)):
                write(f'<table:table-column table:style-name="co{i}"/>')
            write("<table:table-header-rows><table:table-row>")
            for column in columns:
                write(
                    '<table:table-cell table:style-name="ce-head" office:value-type="string">'
                    f"<text:p>{escape(column.header)}</text:p></table:table-cell>"
                )
            write("</table:table-row></table:table-header-rows>")
            for row in rows:
                write("<table:table-row>" + "".join(_cell(v) for v in row) + "</table:table-row>")
            write("</table:table></office:spreadsheet></office:body></office:document-content>")
    output.seek(0)
    return output
