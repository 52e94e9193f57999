"""Routes of the piloting tools: the dashboard and its exports, all read-only GETs.

The filters live in the URL (``reporting.scope.Filters``): the form is a plain GET form
that htmx submits on each change, swapping the results and pushing the URL, so the back
button and a shared link give the same page; the exports carry the same parameters.
"""

from flask import Response, send_file, stream_with_context
from flask_login import login_required

from portal import htmx
from portal.accounts.access import current_membership
from portal.core.time import utcnow
from portal.extensions import db
from portal.followup.rules import today, window_days
from portal.lots.models import Category
from portal.operations.models import Status
from portal.recruitment.access import log_trainees_shown
from portal.reporting import bp, people, rows
from portal.reporting.dashboard import build
from portal.reporting.exports import csv_lines, xlsx_file
from portal.reporting.ods import MIMETYPE, ods_file
from portal.reporting.scope import Filters, is_referent_view, scope_ids

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The formats written to a temporary file then sent (the CSV streams).
WRITERS = {"xlsx": (xlsx_file, XLSX), "ods": (ods_file, MIMETYPE)}


@bp.get("/")
@login_required
def show_dashboard():
    """The dashboard of the operations the user may count, filtered from the URL."""
    filters = Filters.from_request()
    return htmx.render(
        "reporting/dashboard.html",
        "reporting/_results.html",
        board=build(filters),
        statuses=list(Status),
        categories=list(Category),
        referent_view=is_referent_view(),
    )


def _download(name: str, columns, data, fmt: str) -> Response:
    stamp = utcnow().strftime("%Y%m%d")
    filename = f"defi-{name}-{stamp}.{fmt}"
    if fmt in WRITERS:
        writer, mimetype = WRITERS[fmt]
        return send_file(
            writer(columns, data, name),
            mimetype=mimetype,
            as_attachment=True,
            download_name=filename,
        )
    response = Response(stream_with_context(csv_lines(columns, data)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _personal_export(purpose: str, scope) -> None:
    """Write the access log line of an export listing trainees, and commit it before the
    file is written: the log holds even if the download is interrupted."""
    log_trainees_shown(people.trainee_ids(scope), purpose)
    db.session.commit()


@bp.get("/exports/operations.csv", defaults={"fmt": "csv"})
@bp.get("/exports/operations.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/exports/operations.ods", defaults={"fmt": "ods"})
@login_required
def export_operations(fmt: str):
    """The filtered operations, one row each with its figures."""
    scope = scope_ids(Filters.from_request())
    data = rows.operation_rows(scope, today=today(), window=window_days())
    return _download("operations", rows.operation_columns(), data, fmt)


@bp.get("/exports/promesses.csv", defaults={"fmt": "csv"})
@bp.get("/exports/promesses.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/exports/promesses.ods", defaults={"fmt": "ods"})
@login_required
def export_promises(fmt: str):
    """The job promises of the filtered operations and what became of them."""
    scope = scope_ids(Filters.from_request())
    return _download("promesses", rows.promise_columns(), rows.promise_rows(scope), fmt)


@bp.get("/exports/stagiaires.csv", defaults={"fmt": "csv"})
@bp.get("/exports/stagiaires.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/exports/stagiaires.ods", defaults={"fmt": "ods"})
@login_required
def export_trainees(fmt: str):
    """The trainees of the filtered operations (pseudonymised where the record is not the
    user's to open); the export is logged."""
    scope = scope_ids(Filters.from_request())
    _personal_export("export_trainees", scope)
    data = people.trainee_rows(scope, current_membership())
    return _download("stagiaires", people.trainee_columns(), data, fmt)


@bp.get("/exports/suivis.csv", defaults={"fmt": "csv"})
@bp.get("/exports/suivis.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/exports/suivis.ods", defaults={"fmt": "ods"})
@login_required
def export_followups(fmt: str):
    """The follow-ups at exit, +3 and +6 months of the filtered operations; logged."""
    scope = scope_ids(Filters.from_request())
    _personal_export("export_followups", scope)
    data = people.followup_rows(scope, current_membership(), today=today(), window=window_days())
    return _download("suivis", people.followup_columns(), data, fmt)
