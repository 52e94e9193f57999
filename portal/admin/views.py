"""Région admin pages. Every route requires an admin of the Région acting for it."""

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import htmx
from portal.accounts import mfa, reauth, services
from portal.accounts.access import is_region_admin, require
from portal.accounts.forms import EmptyForm
from portal.accounts.models import Membership, Organisation, OrgKind, Territory, User
from portal.admin import bp
from portal.core.actions import (
    act,
    act_and_redirect,
    done,
    field_error,
    flash_redirect,
    form_page,
    form_refusal,
)
from portal.core.errors import RuleError
from portal.core.pagination import paginate
from portal.extensions import db
from portal.organisations.forms import OrganisationForm, TerritoryForm


@bp.before_request
@login_required
def region_admins_only():
    """Only the Région's admins, acting for the Région, reach these pages."""
    require(is_region_admin())


def _territories() -> list[Territory]:
    return db.session.scalars(select(Territory).order_by(Territory.name)).all()


@bp.get("/organisations")
def list_organisations():
    """All organisations with their kind, bassin and number of active members."""
    kind = request.args.get("type", "")
    member_count = (
        select(Membership.organisation_id, func.count().label("n"))
        .where(Membership.active.is_(True))
        .group_by(Membership.organisation_id)
        .subquery()
    )
    query = (
        select(Organisation, func.coalesce(member_count.c.n, 0))
        .outerjoin(member_count, member_count.c.organisation_id == Organisation.id)
        .options(selectinload(Organisation.territory))
        .order_by(Organisation.kind, Organisation.name)
    )
    if kind in {k.value for k in OrgKind}:
        query = query.where(Organisation.kind == OrgKind(kind))
    pagination = paginate(query, scalars=False)
    return htmx.render(
        "admin/organisations.html",
        "admin/_organisation_rows.html",
        rows=pagination.items,
        pagination=pagination,
        kind=kind,
        kinds=list(OrgKind),
    )


def _organisation_form_page(form, organisation=None, refusal: RuleError | None = None):
    """The organisation form (422 once posted), with a refusal under its field."""
    if refusal is not None:
        field_error(form, refusal, "name")
    return form_page(
        "admin/organisation_form.html", form=form, organisation=organisation, error=None
    )


@bp.route("/organisations/nouvelle", methods=["GET", "POST"])
def create_organisation():
    """Create an organisation; then invite its first admin from its members page."""
    territories = _territories()
    form = OrganisationForm()
    form.set_territories(territories)
    if not form.validate_on_submit():
        return _organisation_form_page(form)
    return act(
        lambda: services.save_organisation(
            form.to_data({t.id: t for t in territories}), by=current_user
        ),
        success=lambda organisation: flash_redirect(
            _(
                "Organisation « %(name)s » créée. Invitez maintenant son administrateur·rice.",
                name=organisation.name,
            ),
            url_for("organisations.list_members", org_id=organisation.id),
        ),
        failure=lambda refusal: _organisation_form_page(form, refusal=refusal),
    )


@bp.post("/organisations/<int:org_id>/verification")
def verify_organisation(org_id: int):
    """Confirm an organisation invited by an organisme (« à vérifier »): it may then sign."""
    organisation = db.get_or_404(Organisation, org_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return act_and_redirect(
        lambda: services.verify_organisation(organisation, by=current_user),
        url_for("admin.list_organisations"),
        _("%(org)s est vérifiée.", org=organisation.name),
    )


@bp.route("/organisations/<int:org_id>/modification", methods=["GET", "POST"])
def edit_organisation(org_id: int):
    """Edit an organisation's identity and bassin."""
    organisation = db.get_or_404(Organisation, org_id)
    territories = _territories()
    form = OrganisationForm(obj=organisation if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = organisation.kind.value
        form.partner_type.data = (
            organisation.partner_type.value if organisation.partner_type else ""
        )
        form.territory_id.data = organisation.territory_id
    form.set_territories(territories)
    if not form.validate_on_submit():
        return _organisation_form_page(form, organisation)
    return act(
        lambda: services.save_organisation(
            form.to_data({t.id: t for t in territories}),
            by=current_user,
            organisation=organisation,
        ),
        success=lambda _result: flash_redirect(
            _("Organisation enregistrée."), url_for("admin.list_organisations")
        ),
        failure=lambda refusal: _organisation_form_page(form, organisation, refusal),
    )


@bp.get("/utilisateurs")
def list_users():
    """Every account with its organisations, searchable; the Région can disable an account."""
    search = (request.args.get("q") or "").strip()
    query = (
        select(User)
        .options(selectinload(User.memberships).selectinload(Membership.organisation))
        .order_by(User.last_name, User.first_name, User.id)
    )
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            func.lower(User.email).like(pattern)
            | func.lower(User.last_name).like(pattern)
            | func.lower(User.first_name).like(pattern)
        )
    pagination = paginate(query)
    return render_template(
        "admin/users.html",
        users=pagination.items,
        pagination=pagination,
        search=search,
        button_form=EmptyForm(),
    )


@bp.post("/utilisateurs/<int:user_id>/etat")
def set_user_state(user_id: int):
    """Disable or re-enable an account."""
    user = db.get_or_404(User, user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    enable = request.form.get("enabled") == "1"
    return act_and_redirect(
        lambda: services.set_user_enabled(user, enable, by=current_user),
        url_for("admin.list_users"),
        _("Compte réactivé.") if enable else _("Compte désactivé ; ses sessions sont fermées."),
    )


@bp.post("/utilisateurs/<int:user_id>/double-authentification")
def reset_mfa(user_id: int):
    """Remove the lost second factor of an account (audited; the person is told). Changing
    a second factor: the admin's password again past REAUTH_MINUTES."""
    user = db.get_or_404(User, user_id)
    confirm_first = reauth.required(current_user._get_current_object(), url_for("admin.list_users"))
    if confirm_first:
        return confirm_first
    return act_and_redirect(
        lambda: mfa.reset(user, by=current_user),
        url_for("admin.list_users"),
        _(
            "Double authentification de %(name)s réinitialisée ; la personne en est informée.",
            name=user.full_name,
        ),
    )


def _region_members() -> list[User]:
    return db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Organisation.kind == OrgKind.REGION, Membership.active.is_(True))
        .order_by(User.last_name)
        .distinct()
    ).all()


def _territory_form(territory=None, formdata=None) -> TerritoryForm:
    form = TerritoryForm(
        formdata=formdata, obj=territory, prefix=f"t{territory.id}" if territory else "new"
    )
    form.set_referents(_region_members())
    if territory is not None and formdata is None:
        form.referent_id.data = territory.referent_id
    return form


def _territory_data(form: TerritoryForm) -> dict:
    return {
        "code": form.code.data.strip(),
        "name": form.name.data.strip(),
        "departments": (form.departments.data or "").strip(),
        "referent": db.session.get(User, form.referent_id.data) if form.referent_id.data else None,
    }


@bp.get("/territoires")
def list_territories():
    """Bassins d'emploi and their territorial referents."""
    territories = db.session.scalars(
        select(Territory).options(selectinload(Territory.referent)).order_by(Territory.name)
    ).all()
    return render_template(
        "admin/territories.html",
        territories=territories,
        form=_territory_form(formdata=None),
    )


@bp.post("/territoires")
def create_territory():
    """Add a bassin d'emploi."""
    form = _territory_form(formdata=request.form)

    def page(_message: str | None = None):
        territories = db.session.scalars(
            select(Territory).options(selectinload(Territory.referent)).order_by(Territory.name)
        ).all()
        return render_template("admin/territories.html", territories=territories, form=form), 422

    if not form.validate_on_submit():
        return page()
    return act(
        lambda: services.save_territory(_territory_data(form), by=current_user),
        success=lambda _result: flash_redirect(
            _("Bassin d'emploi ajouté."), url_for("admin.list_territories")
        ),
        failure=form_refusal(form, page, "name"),
    )


@bp.route("/territoires/<int:territory_id>", methods=["GET", "POST"])
def edit_territory(territory_id: int):
    """Inline edit of one bassin (htmx swaps the table row); a plain page without JS."""
    territory = db.get_or_404(Territory, territory_id)
    posted = request.method == "POST"
    form = _territory_form(territory, formdata=request.form if posted else None)

    def row(editing: bool, status: int = 200):
        return htmx.render(
            "admin/territory.html",
            "admin/_territory_row.html",
            status,
            territory=territory,
            form=form,
            editing=editing,
        )

    if not posted:
        return row(editing=request.args.get("modifier") == "1")
    if not form.validate_on_submit():
        return row(editing=True, status=422)
    return act(
        lambda: services.save_territory(
            _territory_data(form), by=current_user, territory=territory
        ),
        success=lambda _result: done(
            _("Bassin d'emploi enregistré."),
            url_for("admin.list_territories"),
            lambda: row(editing=False),
            announce=True,
        ),
        failure=form_refusal(form, lambda _message: row(editing=True, status=422), "name"),
    )
