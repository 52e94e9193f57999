"""The exports the dashboard offers: for each, its URL name, French title, columns, rows
(for the operations in scope, as the user may see them) and, when it lists trainees, the
purpose its access log line records. One table used by the direct downloads
(``views.py``) and by the exports written in the background (``jobs.py``)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select

from portal.accounts.models import Membership
from portal.followup.rules import today, window_days
from portal.recruitment.access import log_trainees_shown
from portal.reporting import people, rows
from portal.reporting.exports import Column, csv_lines, xlsx_file
from portal.reporting.ods import MIMETYPE as ODS
from portal.reporting.ods import ods_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Format -> (writer into a rewound temporary file, or None for the CSV's lines; mimetype).
FORMATS = {"csv": (None, "text/csv"), "xlsx": (xlsx_file, XLSX), "ods": (ods_file, ODS)}


@dataclass(frozen=True)
class Export:
    """One export: ``name`` is its URL's and file's name."""

    name: str
    title: str
    columns: Callable[[], list[Column]]
    rows: Callable[[Select, Membership | None], Iterable[tuple]]
    purpose: str | None = None  # lists trainees: the access log's purpose

    def log_access(self, scope: Select) -> None:
        """The access log line of an export listing trainees (the caller commits it
        before writing the file: the log holds even if the download is interrupted)."""
        if self.purpose:
            log_trainees_shown(people.trainee_ids(scope), self.purpose)


EXPORTS = {
    export.name: export
    for export in (
        Export(
            "operations",
            _l("Opérations et leurs chiffres"),
            rows.operation_columns,
            lambda scope, _m: rows.operation_rows(scope, today=today(), window=window_days()),
        ),
        Export(
            "promesses",
            _l("Promesses d'embauche"),
            rows.promise_columns,
            lambda scope, _m: rows.promise_rows(scope),
        ),
        Export(
            "stagiaires",
            _l("Stagiaires"),
            people.trainee_columns,
            people.trainee_rows,
            "export_trainees",
        ),
        Export(
            "suivis",
            _l("Suivis dans l'emploi"),
            people.followup_columns,
            lambda scope, m: people.followup_rows(scope, m, today=today(), window=window_days()),
            "export_followups",
        ),
    )
}


def write(export: Export, fmt: str, data: Iterable[tuple], out) -> None:
    """Write ``data`` as ``fmt`` into the binary file ``out``."""
    writer, _mimetype = FORMATS[fmt]
    if writer is None:
        for line in csv_lines(export.columns(), data):
            out.write(line.encode("utf-8"))
        return
    with writer(export.columns(), data, export.name) as written:
        while chunk := written.read(1024 * 1024):
            out.write(chunk)
