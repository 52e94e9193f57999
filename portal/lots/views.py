"""Routes of the market lots area (the Région manages lots; organismes read them)."""

import csv
import io

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import htmx
from portal.accounts.access import current_org, is_region_admin, require
from portal.accounts.models import Organisation, OrgKind, Territory
from portal.core.actions import act, flash_redirect, form_page, form_refusal
from portal.core.errors import RuleError
from portal.core.pagination import paginate
from portal.extensions import db
from portal.lots import bp
from portal.lots.forms import MAX_IMPORT_BYTES, ImportLotsForm, LotFilterForm, LotForm
from portal.lots.models import Category, MarketLot
from portal.lots.services import CSV_COLUMNS, import_lots_csv, save_lot

READERS = {OrgKind.REGION, OrgKind.PROVIDER}
# The downloadable example: the expected columns, two lines with fictitious SIRET numbers
# (those of the demo's organismes de formation, so that the file imports into the demo).
EXAMPLE_ROWS = [
    [
        "2024-PM-045",
        "Prépa Métiers industrie et logistique",
        "Prépa Métiers",
        "ORL|MTG",
        "90000000000027",
        "2024-2027",
        "H2903|N1103",
    ],
    [
        "2024-SF-012",
        "Se former au métier d'assistant·e de vie aux familles",
        "Se former au métier de",
        "TRS",
        "90000000000035",
        "2024-2027",
        "K1302|K1304",
    ],
]


@bp.before_request
@login_required
def readers_only():
    """The Région and the organismes de formation see the lots (who holds what); no one else."""
    org = current_org()
    require(org is not None and org.kind in READERS)


def _territories() -> list[Territory]:
    return db.session.scalars(select(Territory).order_by(Territory.name)).all()


def _providers() -> list[Organisation]:
    return db.session.scalars(
        select(Organisation)
        .where(Organisation.kind == OrgKind.PROVIDER)
        .order_by(Organisation.name)
    ).all()


def _lot_holders() -> list[Organisation]:
    """The organisations holding at least one lot (the holder filter's choices)."""
    return db.session.scalars(
        select(Organisation)
        .where(Organisation.id.in_(select(MarketLot.holder_id)))
        .order_by(Organisation.name)
    ).all()


def _filtered(query, criteria: dict):
    if "q" in criteria:
        needle = criteria["q"].lower()
        query = query.where(
            func.lower(MarketLot.number).contains(needle, autoescape=True)
            | func.lower(MarketLot.title).contains(needle, autoescape=True)
        )
    if "category" in criteria:
        query = query.where(MarketLot.category == Category(criteria["category"]))
    if "territory_id" in criteria:
        query = query.where(MarketLot.territories.any(Territory.id == criteria["territory_id"]))
    if "holder_id" in criteria:
        query = query.where(MarketLot.holder_id == criteria["holder_id"])
    if "active" in criteria:
        query = query.where(MarketLot.active.is_(criteria["active"]))
    return query


@bp.get("")
def list_lots():
    """The market's lots, filtered; htmx swaps only the results when a filter changes."""
    filters = LotFilterForm(request.args)
    filters.set_choices(_territories(), _lot_holders())
    criteria = filters.criteria()
    query = _filtered(select(MarketLot), criteria).options(
        selectinload(MarketLot.holder),
        selectinload(MarketLot.territories),
        selectinload(MarketLot.trades),
    )
    pagination = paginate(query.order_by(MarketLot.number, MarketLot.id))
    return htmx.render(
        "lots/list.html",
        "lots/_results.html",
        lots=pagination.items,
        pagination=pagination,
        filters=filters,
        filtered=bool(criteria),
        can_manage=is_region_admin(),
    )


def _lot_form(lot: MarketLot | None):
    """Show the lot form, or save it: errors re-render it with 422 and nothing saved."""
    territories, providers = _territories(), _providers()
    form = LotForm(obj=lot if request.method == "GET" else None)
    form.set_choices(territories, providers)
    if lot is not None and request.method == "GET":
        form.fill_from(lot)

    def page(_message: str | None = None):
        return form_page("lots/lot_form.html", form=form, lot=lot)

    if not form.validate_on_submit():
        return page()
    data = form.to_data({t.id: t for t in territories}, {o.id: o for o in providers})
    return act(
        lambda: save_lot(data, by=current_user, lot=lot).number,
        success=lambda number: flash_redirect(
            _("Lot n° %(number)s enregistré.", number=number), url_for("lots.list_lots")
        ),
        failure=form_refusal(form, page, "number"),
    )


@bp.route("/nouveau", methods=["GET", "POST"])
def create_lot():
    """Create a lot of the market (Région admins)."""
    require(is_region_admin())
    return _lot_form(None)


@bp.route("/<int:lot_id>/modification", methods=["GET", "POST"])
def edit_lot(lot_id: int):
    """Edit a lot: its holder, bassins, trades, period, or its deactivation (Région admins)."""
    require(is_region_admin())
    lot = db.get_or_404(
        MarketLot,
        lot_id,
        options=[selectinload(MarketLot.territories), selectinload(MarketLot.trades)],
    )
    return _lot_form(lot)


def _read_upload(form: ImportLotsForm) -> bytes | None:
    """The uploaded bytes, or None (with an error on the field) when the file is too big."""
    raw = form.file.data.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        form.file.errors = [*form.file.errors, _("Le fichier dépasse la taille autorisée (1 Mio).")]
        return None
    return raw


@bp.route("/import", methods=["GET", "POST"])
def import_lots():
    """Import a CSV of lots: a file with any bad line is refused whole, with every problem."""
    require(is_region_admin())
    form = ImportLotsForm()
    report = None
    if form.validate_on_submit() and (raw := _read_upload(form)) is not None:
        try:
            report = import_lots_csv(raw, by=current_user)
        except RuleError as exc:
            db.session.rollback()
            form.file.errors = [*form.file.errors, exc.message]
        else:
            if report.ok:
                db.session.commit()
                flash(_import_summary(report), "success")
                return redirect(url_for("lots.list_lots"), 303)
            db.session.rollback()
    return render_template(
        "lots/import.html",
        form=form,
        report=report,
        bad_lines=len({line for line, _column, _reason in report.errors}) if report else 0,
        territories=_territories(),
        providers=_providers(),
    ), (422 if request.method == "POST" else 200)


def _import_summary(report) -> str:
    return _(
        "Import terminé : %(created)d lot(s) créé(s), %(updated)d lot(s) mis à jour.",
        created=len(report.created),
        updated=len(report.updated),
    )


@bp.get("/modele.csv")
def csv_template():
    """An example file with the expected columns (UTF-8 with BOM, so spreadsheets read accents)."""
    require(is_region_admin())
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(EXAMPLE_ROWS)
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="modele-lots.csv"'},
    )
