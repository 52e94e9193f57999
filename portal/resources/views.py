"""« Pour aller plus loin »: the Région's reference documents, for everyone logged in; its
admins add and remove them in the same widget (``resources/_documents.html``), which htmx
updates in place and which works as plain forms without JavaScript."""

from flask import abort, current_app, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, is_region_admin, require
from portal.accounts.forms import EmptyForm
from portal.core.errors import RuleError
from portal.extensions import db
from portal.resources import bp, services
from portal.resources.forms import AddDocumentForm
from portal.resources.models import ReferenceDocument

PAGE = "resources/list.html"
WIDGET = "resources/_documents.html"


def _page(form=None, *, status: int = 200, notice=None, error=None):
    return htmx.render(
        PAGE,
        WIDGET,
        status,
        documents=services.documents(),
        manage=is_region_admin(),
        form=form or AddDocumentForm(formdata=None),
        button_form=EmptyForm(formdata=None),
        max_megabytes=services.max_bytes() // (1024 * 1024),
        notice=notice,
        error=error,
    )


def _done(notice: str):
    """htmx: the widget again, with the notice; a plain form: flash and back (PRG)."""
    if htmx.is_htmx():
        return _page(notice=notice)
    flash(notice, "success")
    return redirect(url_for("resources.list_documents"), 303)


@bp.get("")
@login_required
def list_documents():
    """The reference documents named by the DEFI sheet."""
    return _page()


@bp.post("")
@login_required
def upload_document():
    """Publish a document (the Région's admins): PDF or DOCX, checked by its bytes."""
    require(is_region_admin())
    form = AddDocumentForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    upload = form.file.data
    try:
        services.add_document(
            upload.read(services.max_bytes() + 1),
            upload.filename or "",
            form.title.data,
            form.description.data,
            by=current_user,
            org=current_org(),
        )
    except RuleError as exc:
        db.session.rollback()
        form[exc.field or "file"].errors = [exc.message]
        return _page(form, status=422)
    db.session.commit()
    return _done(_("Document « %(t)s » publié.", t=form.title.data.strip()))


@bp.get("/<int:document_id>/fichier")
@login_required
def download_document(document_id: int):
    """The file, always as an attachment, with the type its bytes were checked to be."""
    document = db.get_or_404(ReferenceDocument, document_id)
    path = services.path_of(document)
    if not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype=document.kind.mimetype,
        as_attachment=True,
        download_name=document.filename,
        max_age=0,
    )


@bp.post("/<int:document_id>/suppression")
@login_required
def delete_document(document_id: int):
    """Remove a document (the Région's admins)."""
    require(is_region_admin())
    document = db.get_or_404(ReferenceDocument, document_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    title = document.title
    try:
        path = services.remove_document(document, by=current_user, org=current_org())
    except RuleError as exc:
        db.session.rollback()
        return _page(status=422, error=exc.message)
    db.session.commit()
    services.discard_file(path)
    return _done(_("Document « %(t)s » retiré.", t=title))


@bp.errorhandler(413)
def too_large(_error):
    """Larger than ``MAX_CONTENT_LENGTH``: said on the page, in French."""
    megabytes = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return _page(
        status=413, error=_("Le fichier dépasse la taille autorisée (%(n)d Mo).", n=megabytes)
    )
