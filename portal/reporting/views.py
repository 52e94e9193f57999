"""Routes of the piloting tools: the dashboard and its exports, all read-only GETs.

The filters live in the URL (``reporting.scope.Filters``): the form is a plain GET form
that htmx submits on each change, swapping the results and pushing the URL, so the back
button and a shared link give the same page; the exports carry the same parameters.
"""

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts import reauth
from portal.accounts.access import current_membership
from portal.accounts.forms import EmptyForm
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from portal.lots.models import Category
from portal.operations.models import Status
from portal.reporting import bp, jobs
from portal.reporting.catalogue import EXPORTS, FORMATS
from portal.reporting.dashboard import build
from portal.reporting.exports import csv_lines
from portal.reporting.models import ExportJob
from portal.reporting.scope import Filters, is_referent_view, scope_ids


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
        export_form=EmptyForm(),
    )


def _confirm_identity_first(export, return_to: str):
    """An export of trainees' personal data asks for the password again past
    REAUTH_MINUTES (portal/accounts/reauth.py); the others go on."""
    if not export.purpose:
        return None
    return reauth.required(current_user._get_current_object(), return_to)


def _download(name: str, fmt: str) -> Response:
    """The export written as the response (the CSV streams; the others are written to a
    temporary file, then sent). The dashboard's buttons queue it instead (``jobs``)."""
    export = EXPORTS[name]
    confirm_first = _confirm_identity_first(export, request.full_path)
    if confirm_first:
        return confirm_first
    scope = scope_ids(Filters.from_request())
    export.log_access(scope)
    db.session.commit()  # the access log holds even if the download is interrupted
    data = export.rows(scope, current_membership())
    filename = f"defi-{name}-{utcnow().strftime('%Y%m%d')}.{fmt}"
    writer, mimetype = FORMATS[fmt]
    if writer is not None:
        return send_file(
            writer(export.columns(), data, name),
            mimetype=mimetype,
            as_attachment=True,
            download_name=filename,
        )
    response = Response(stream_with_context(csv_lines(export.columns(), data)), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/exports/operations.csv", defaults={"fmt": "csv"})
@bp.get("/exports/operations.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/exports/operations.ods", defaults={"fmt": "ods"})
@login_required
def export_operations(fmt: str):
    """The filtered operations, one row each with its figures."""
    return _download("operations", fmt)


@bp.get("/exports/promesses.csv", defaults={"fmt": "csv"})
@bp.get("/exports/promesses.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/exports/promesses.ods", defaults={"fmt": "ods"})
@login_required
def export_promises(fmt: str):
    """The job promises of the filtered operations and what became of them."""
    return _download("promesses", fmt)


@bp.get("/exports/stagiaires.csv", defaults={"fmt": "csv"})
@bp.get("/exports/stagiaires.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/exports/stagiaires.ods", defaults={"fmt": "ods"})
@login_required
def export_trainees(fmt: str):
    """The trainees of the filtered operations (pseudonymised where the record is not the
    user's to open); the export is logged."""
    return _download("stagiaires", fmt)


@bp.get("/exports/suivis.csv", defaults={"fmt": "csv"})
@bp.get("/exports/suivis.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/exports/suivis.ods", defaults={"fmt": "ods"})
@login_required
def export_followups(fmt: str):
    """The follow-ups at exit, +3 and +6 months of the filtered operations; logged."""
    return _download("suivis", fmt)


# ---- exports written in the background, followed in the page ---------------------------


def _job_page(job: ExportJob, status: int = 200, **context) -> Response:
    recent = [] if htmx.is_htmx() else jobs.recent(current_user)
    return htmx.render(
        "reporting/export_job.html",
        "reporting/_export_job.html",
        status,
        job=job,
        title=jobs.title(job),
        kept_until=jobs.kept_until(job),
        recent=recent,
        titles={other.id: jobs.title(other) for other in recent},
        **context,
    )


@bp.post("/exports/<name>/<fmt>")
@login_required
def queue_export(name: str, fmt: str):
    """Queue the export (the filters in the query string, like the direct downloads):
    htmx gets the request's progress fragment, a plain form the request's page."""
    if name not in EXPORTS or fmt not in FORMATS:
        abort(404)
    confirm_first = _confirm_identity_first(
        EXPORTS[name], url_for("reporting.show_dashboard", **request.args)
    )
    if confirm_first:
        return confirm_first
    try:
        job = jobs.request_export(
            name, fmt, Filters.from_request(), membership=current_membership()
        )
    except RuleError as exc:
        if htmx.is_htmx():
            return render_template("reporting/_export_refused.html", message=exc.message), 422
        flash(exc.message, "error")
        return redirect(url_for("reporting.show_dashboard", **request.args), 303)
    db.session.commit()
    jobs.dispatch(job.id)
    if htmx.is_htmx():
        return _job_page(job, announce=_("Export demandé : %(t)s.", t=jobs.title(job)))
    return redirect(url_for("reporting.show_export", job_id=job.id), 303)


def _own_job(job_id: int) -> ExportJob:
    """The request, if the current user made it; 404 for anyone else (never a 403: other
    people's exports are not theirs to know of)."""
    job = jobs.owned(job_id, current_user)
    if job is None:
        abort(404)
    return job


@bp.get("/exports/demandes/<int:job_id>")
@login_required
def show_export(job_id: int):
    """A request's progress (polled by htmx every second until it ends), then its file."""
    job = _own_job(job_id)
    announce = None
    if job.is_finished and htmx.is_htmx():
        announce = (
            _("Export prêt : %(t)s.", t=jobs.title(job))
            if job.is_ready
            else _("Export en échec : %(t)s.", t=jobs.title(job))
        )
    return _job_page(job, announce=announce)


@bp.get("/exports/demandes/<int:job_id>/fichier")
@login_required
def download_export(job_id: int):
    """The written file, to the person who asked, while it is kept."""
    job = _own_job(job_id)
    confirm_first = _confirm_identity_first(EXPORTS[job.export], request.full_path)
    if confirm_first:
        return confirm_first
    if not job.is_ready or not jobs.path_of(job).is_file():  # the file may have been lost
        flash(_("Ce fichier n'est pas (ou plus) disponible."), "error")
        return redirect(url_for("reporting.show_export", job_id=job.id), 303)
    return send_file(
        jobs.path_of(job),
        mimetype=FORMATS[job.fmt][1],
        as_attachment=True,
        download_name=job.download_name,
    )
