"""The « Modifications apportées par l'avenant » part of an amendment's Word document.

An avenant says what it changes in the version it amends: the same part-by-part diff the
signers read on the version page (``diffs.snapshot_diff``) — the operation, the parties,
the job promises, the clauses and the co-designed training (contents, skills, modules,
rhythm…). Text shows removed words struck through and added words underlined (and says
so, since a printed copy may lose the formatting); records and list items, field by field.
Built only from two frozen versions, so the document stays deterministic.
"""

from flask_babel import gettext as _

from portal.conventions.diffs import Block, snapshot_diff
from portal.conventions.models import ConventionVersion
from portal.conventions.state import amended_version, snapshot_of
from portal.core.text import document_text
from portal.design.documents import heading, paragraph

KINDS = {
    "added": lambda: _("Ajouté"),
    "removed": lambda: _("Supprimé"),
    "changed": lambda: _("Modifié"),
}


def _text(document, block: Block) -> None:
    line = document.add_paragraph()
    for chunk in block.chunks:
        run = line.add_run(document_text(chunk.text))
        if chunk.kind == "removed":
            run.font.strike = True
        elif chunk.kind == "added":
            run.font.underline = True


def _items(document, block: Block) -> None:
    for change in block.items.changes:
        paragraph(document, f"{KINDS[change.kind]()} : {change.name}", style="List Bullet")
        for field in change.fields:
            if field.old and field.new:
                value = f"{field.old} → {field.new}"
            else:
                value = field.new or _("%(v)s (retiré)", v=field.old)
            paragraph(document, f"{field.label} : {value}", style="List Bullet 2")
    if block.items.reordered:
        paragraph(document, _("L'ordre des éléments a changé."))


def add_changes(document, version: ConventionVersion, snapshot: dict) -> None:
    """For an amendment, what it changes in the version it amends (nothing otherwise)."""
    amended = amended_version(version)
    if amended is None:
        return
    heading(
        document,
        _("Modifications apportées par l'avenant à la version %(n)s", n=amended.number),
        level=1,
    )
    parts = snapshot_diff(snapshot_of(amended), snapshot)
    if not parts:
        paragraph(document, _("Le texte est celui de la version %(n)s.", n=amended.number))
        return
    paragraph(
        document,
        _(
            "Dans les textes modifiés, les passages supprimés sont barrés et les passages "
            "ajoutés soulignés."
        ),
    )
    for part in parts:
        heading(document, part.title, level=2)
        for block in part.blocks:
            if block.title != part.title:
                heading(document, block.title, level=3)
            if block.chunks is not None:
                _text(document, block)
            else:
                _items(document, block)
