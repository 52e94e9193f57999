"""The operation's archive, for the organisme porteur and the Région.

Why only them: the archive holds the debrief sheets and internship certificates, which
name every trainee; the operation's other participants (employers, partners) may only
see the trainees they host or prescribed, and download those documents one by one. An
outsider gets 404, like every page of an operation.

A closed operation's archive is final: a plain link downloads it (GET). Before closing, an
archive is made on demand only, after a page that says it is provisional, by a button
(POST with its CSRF token); a GET of the zip then leads to that page. Either way the
request writes only evidence: the archive's manifest hash once per distinct archive
(``IssuedArchive``, which the public verification page reads), the convention files it
holds (``IssuedDocument``), the access log of the trainees it names, and an
``archive.downloaded`` audit event (the user's own navigation only, as for the
convention's downloads; the manifest leaves such events out, so they do not change it).
"""

from flask import Response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.accounts.access import current_org, require
from portal.accounts.forms import EmptyForm
from portal.archive import bp
from portal.archive.build import ZIP_MIMETYPE, build_archive, is_final, issue, outline
from portal.archive.models import IssuedArchive
from portal.audit.services import record
from portal.extensions import db
from portal.operations.access import can_steer, load_operation
from portal.operations.models import Operation
from portal.recruitment.access import log_trainees_shown
from portal.security import own_navigation

RECENT = 10
CHUNK_BYTES = 256 * 1024


def _load(operation_id: int) -> Operation:
    operation = load_operation(operation_id)
    require(can_steer(operation))
    return operation


@bp.get("/")
@login_required
def show_archive(operation_id: int):
    """What the archive holds, the archives issued so far, and the download (or, before
    closing, the button that makes a provisional archive)."""
    operation = _load(operation_id)
    plan = outline(operation)
    issued = db.session.scalars(
        select(IssuedArchive)
        .where(IssuedArchive.operation_id == operation.id)
        .order_by(IssuedArchive.issued_at.desc(), IssuedArchive.id.desc())
        .limit(RECENT)
    ).all()
    return render_template(
        "archive/show.html",
        operation=operation,
        plan=plan,
        issued=issued,
        form=EmptyForm(),
    )


@bp.route("/archive.zip", methods=["GET", "POST"])
@login_required
def download_archive(operation_id: int):
    """The archive as a zip: by a link once the operation is closed, by the page's button
    (POST) before; a GET before closing leads to the page."""
    operation = _load(operation_id)
    # A POST got past the CSRF check (portal/extensions.py protects every POST).
    if not is_final(operation) and request.method != "POST":
        return redirect(url_for("archive.show_archive", operation_id=operation.id), 303)
    archive = build_archive(operation, by=current_user)
    try:
        _record_download(operation, archive)
    except BaseException:
        archive.file.close()  # the spooled zip, else left to the garbage collector
        raise
    response = Response(_chunks(archive.file), mimetype=ZIP_MIMETYPE)
    response.headers.set("Content-Disposition", "attachment", filename=archive.name)
    response.content_length = archive.size
    return response


def _record_download(operation, archive) -> None:
    """The evidence of a download: the archive issued, the trainees shown, the audit."""
    org = current_org()
    issue(operation, archive, by=current_user, organisation=org)
    log_trainees_shown(archive.trainee_ids, "archive")
    if own_navigation():
        record(
            "archive.downloaded",
            actor=current_user,
            organisation=org,
            obj=operation,
            manifest_sha256=archive.manifest_sha256,
            final=archive.final,
        )
    db.session.commit()


def _chunks(file, size: int = CHUNK_BYTES):
    """The zip, read chunk by chunk as the server sends it, and closed after the last (or
    when the client goes away: the server closes the answer, which closes this)."""
    try:
        while chunk := file.read(size):
            yield chunk
    finally:
        file.close()
