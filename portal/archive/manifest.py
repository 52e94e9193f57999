"""The archive's manifest: ``manifeste.json`` (what the public verification page recognises
by its SHA-256), ``manifeste.md`` (the same in French, for people) and ``SHA256SUMS`` (for
``sha256sum -c``).

The JSON lists every document with its SHA-256 and size, and the operation's audit events
with their chain hashes; it cannot hold its own hash, which ``manifeste.md`` and
``SHA256SUMS`` print and the portal records (``IssuedArchive``). Sorted keys, two-space
indent, UTF-8: the same content gives the same bytes. Nothing in it names a person.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _

from portal.archive.journal import Event
from portal.core.urls import absolute_url
from portal.operations.models import Operation

FORMAT = "portail-defi/archive-operation/1"
JSON_NAME = "manifeste.json"
TEXT_NAME = "manifeste.md"
SUMS_NAME = "SHA256SUMS"


@dataclass(frozen=True)
class Listed:
    """A document written in the archive: where, what, its hash and size."""

    path: str
    kind: str
    title: str
    sha256: str
    size: int

    def listed(self) -> dict:
        return {
            "path": self.path,
            "kind": self.kind,
            "title": self.title,
            "sha256": self.sha256,
            "size": self.size,
        }


@dataclass(frozen=True)
class Header:
    """The operation as the manifest presents it, and the state recorded."""

    operation: Operation
    reference: str | None  # the convention's, when there is one
    final: bool
    as_of: datetime

    def listed(self) -> dict:
        operation = self.operation
        return {
            "id": operation.id,
            "title": operation.title,
            "territory": operation.territory.name,
            "provider": operation.provider.name if operation.provider else None,
            "convention_reference": self.reference,
            "status": operation.status.value,
            "status_title": str(operation.status.title),
        }


def manifest_json(header: Header, files: list[Listed], events: list[Event]) -> bytes:
    """The JSON manifest, byte for byte the same for the same archive."""
    manifest = {
        "format": FORMAT,
        "issuer": _("Portail DEFI — Région Centre-Val de Loire"),
        "verification_url": absolute_url("verification.verify"),
        "operation": header.listed(),
        "final": header.final,
        "as_of": header.as_of.isoformat() + "Z",
        "hash_algorithm": "sha256",
        "files": [f.listed() for f in files],
        "audit_events": [e.listed() for e in events],
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
    return (text + "\n").encode("utf-8")


def _paris(value: datetime) -> str:
    return format_datetime(value, "d MMMM y 'à' HH:mm")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def manifest_text(
    header: Header, files: list[Listed], events: list[Event], manifest_sha256: str
) -> bytes:
    """The manifest in French (Markdown), with the JSON manifest's own SHA-256."""
    operation = header.operation
    if header.final and operation.is_cancelled:
        state = _("Opération annulée le %(d)s : archive définitive.", d=_paris(header.as_of))
    elif header.final:
        state = _("Opération close le %(d)s : archive définitive.", d=_paris(header.as_of))
    else:
        state = _(
            "Archive provisoire : l'opération est à l'étape « %(s)s » ; état au %(d)s. Une "
            "archive définitive sera disponible à la clôture.",
            s=operation.status.title,
            d=_paris(header.as_of),
        )
    lines = [
        "# " + _("Archive de l'opération DEFI « %(t)s »", t=operation.title),
        "",
        _("Émise par le Portail DEFI de la Région Centre-Val de Loire."),
        "",
        "- "
        + _(
            "Opération n° %(n)s — bassin d'emploi : %(t)s",
            n=operation.id,
            t=operation.territory.name,
        ),
    ]
    if operation.provider:
        lines.append("- " + _("Organisme porteur : %(o)s", o=operation.provider.name))
    if header.reference:
        lines.append("- " + _("Convention : %(r)s", r=header.reference))
    lines += [
        "- " + state,
        "- " + _("Empreinte SHA-256 du manifeste (%(f)s) :", f=JSON_NAME) + f" `{manifest_sha256}`",
        "",
        _(
            "Pour vérifier l'archive : déposez le fichier %(f)s sur %(url)s, ou saisissez-y son "
            "empreinte. Chaque document se vérifie ensuite par son empreinte SHA-256, listée "
            "ci-dessous et dans %(sums)s (commande « sha256sum -c %(sums)s » dans le dossier "
            "de l'archive).",
            f=JSON_NAME,
            url=absolute_url("verification.verify"),
            sums=SUMS_NAME,
        ),
        "",
        "## " + _("Documents (%(n)d)", n=len(files)),
        "",
        "| " + " | ".join([_("Fichier"), _("Document"), _("Taille (octets)"), "SHA-256"]) + " |",
        "|---|---|---:|---|",
    ]
    lines += [f"| {f.path} | {_cell(f.title)} | {f.size} | `{f.sha256}` |" for f in files]
    lines += [
        "",
        "## " + _("Journal d'audit de l'opération (%(n)d évènements)", n=len(events)),
        "",
        _(
            "Chaque évènement du journal du portail porte l'empreinte de l'évènement qui le "
            "précède dans la chaîne (tous objets confondus) : modifier ou supprimer un "
            "évènement rompt la chaîne, ce que la vérification du journal détecte. Dates en "
            "temps universel (UTC)."
        ),
        "",
        "| "
        + " | ".join(
            [_("N°"), _("Date (UTC)"), _("Évènement"), _("Objet"), _("Empreinte précédente")]
        )
        + " | "
        + _("Empreinte")
        + " |",
        "|---:|---|---|---|---|---|",
    ]
    for e in events:
        subject = f"{e.object_type} {e.object_id}" if e.object_id is not None else e.object_type
        at = e.at.strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"| {e.seq} | {at} | {e.action} | {subject} | `{e.prev_hash}` | `{e.hash}` |")
    return ("\n".join(lines) + "\n").encode("utf-8")


def sha256sums(entries: list[tuple[str, str]]) -> bytes:
    """``sha256sum``'s format: one « hash, two spaces, path » line per file."""
    return "".join(f"{digest}  {path}\n" for path, digest in entries).encode("utf-8")
