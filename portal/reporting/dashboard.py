"""The dashboard's data: the scope, the figures, the charts and the filters' options, in a
fixed number of queries (six, whatever the number of operations: four in
``queries.figures``, over the counts ``summary`` keeps per operation, two in
``queries.options``)."""

from dataclasses import dataclass

from flask_babel import gettext as _

from portal.accounts.access import current_membership
from portal.followup.models import MilestoneKind
from portal.followup.rules import today, window_days
from portal.reporting import charts, queries
from portal.reporting.scope import Filters, group_scope, is_referent_view, scope_ids


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    totals: queries.Totals
    options: queries.Options
    by_territory: charts.BarChart
    by_category: charts.BarChart
    funnel: charts.Funnel
    rates: charts.LineChart
    referent_of: list[str]  # a referent's bassins (their default scope), else empty
    rates_of_kind: dict  # milestone -> (lasting, employed, with promiser) percents


def _rates(totals: queries.Totals) -> dict:
    found = {}
    for kind in MilestoneKind:
        e = totals.employment[kind]
        found[kind] = {
            "lasting": charts.percent(e.lasting, e.retained),
            "employed": charts.percent(e.employed, e.retained),
            "with_promiser": charts.percent(e.with_promiser, e.retained),
        }
    return found


def build(filters: Filters) -> Dashboard:
    """Everything the dashboard shows for ``filters``, within what the user may count."""
    unfiltered = Filters(whole_region=filters.whole_region)
    options = queries.options(scope_ids(unfiltered), group_scope(unfiltered))
    found = queries.figures(
        scope_ids(filters),
        dict(options.territories),
        today=today(),
        window=window_days(),
        groups=group_scope(filters),
    )
    totals = found.totals
    m6 = totals.employment[MilestoneKind.M6]
    funnel = charts.funnel(
        "chart-funnel",
        _("De la promesse d'embauche à l'emploi à 6 mois"),
        [
            (_("Promesses d'embauche"), totals.promises),
            (_("Stagiaires recruté·es"), totals.recruited),
            (_("Parcours complets"), totals.completed),
            (_("En emploi à 6 mois"), m6.employed),
        ],
    )
    return Dashboard(
        filters=filters,
        totals=totals,
        options=options,
        by_territory=charts.bar_chart(
            "chart-territory",
            _("Stagiaires et emploi durable par bassin"),
            found.by_territory,
        ),
        by_category=charts.bar_chart(
            "chart-category",
            _("Stagiaires et emploi durable par catégorie"),
            found.by_category,
        ),
        funnel=funnel,
        rates=charts.rate_chart(
            "chart-rates",
            _("Taux d'emploi durable par année de sortie"),
            found.by_exit_year,
        ),
        # From the options' bassins: no query of its own.
        referent_of=(
            options.bassins_of(current_membership().user_id) if is_referent_view() else []
        ),
        rates_of_kind=_rates(totals),
    )
