"""The alternance rhythm: totals of hours per place and the inconsistencies to flag."""

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.design.models import Design, SectionKey

PERIOD_KINDS = {
    "centre": _l("Centre de formation"),
    "immersion": _l("Immersion en entreprise"),
    "platform": _l("Plateau technique de l'entreprise"),
}
MODULE_PLACES = {
    "centre": _l("Centre de formation"),
    "platform": _l("Plateau technique de l'entreprise"),
    "remote": _l("À distance"),
}


@dataclass
class Period:
    """One period of the rhythm, parsed from the section's JSON item."""

    id: str
    kind: str
    start: date
    end: date
    hours: int
    employer_id: int | None
    label: str


def periods(design: Design, *, in_force: bool = False) -> list[Period]:
    """The rhythm's periods in date order (items with unreadable dates are skipped).

    ``in_force``: the rhythm of the convention version in force rather than the draft the
    sections hold once a version is validated (``portal/design/drafts.py``).
    """
    content = design.section(SectionKey.RHYTHM).content
    if in_force and design.in_force is not None:
        content = design.in_force.get(SectionKey.RHYTHM.value, content)
    result = []
    for item in content.get("items", []):
        try:
            start = date.fromisoformat(item["start"])
            end = date.fromisoformat(item["end"])
        except (KeyError, TypeError, ValueError):
            continue
        result.append(
            Period(
                item.get("id", ""),
                item.get("kind", "centre"),
                start,
                end,
                int(item.get("hours") or 0),
                item.get("employer_id"),
                item.get("label", ""),
            )
        )
    return sorted(result, key=lambda p: (p.start, p.end))


def totals(design: Design) -> dict[str, int]:
    """Hours per kind of place (centre, immersion, platform)."""
    sums = {kind: 0 for kind in PERIOD_KINDS}
    for period in periods(design):
        sums[period.kind] = sums.get(period.kind, 0) + period.hours
    return sums


def hours_issues(design: Design) -> list[str]:
    """Every inconsistency of the rhythm, in French (empty when consistent)."""
    operation = design.operation
    issues = []
    items = periods(design)
    for previous, current in zip(items, items[1:], strict=False):
        if current.start <= previous.end:
            issues.append(
                _(
                    "Les périodes du %(a)s et du %(b)s se chevauchent.",
                    a=previous.start.strftime("%d/%m/%Y"),
                    b=current.start.strftime("%d/%m/%Y"),
                )
            )
    for period in items:
        if period.end < period.start:
            issues.append(
                _(
                    "Une période finit avant de commencer (%(d)s).",
                    d=period.start.strftime("%d/%m/%Y"),
                )
            )
        outside = (operation.session_start and period.start < operation.session_start) or (
            operation.session_end and period.end > operation.session_end
        )
        if outside:
            issues.append(
                _(
                    "La période du %(d)s sort des dates de la session.",
                    d=period.start.strftime("%d/%m/%Y"),
                )
            )
    sums = totals(design)
    if items:
        if operation.hours_centre is None or operation.hours_company is None:
            issues.append(
                _("Les heures prévues de l'opération (centre, entreprise) ne sont pas renseignées.")
            )
        else:
            if sums["centre"] != operation.hours_centre:
                issues.append(
                    _(
                        "Le rythme compte %(r)d h en centre pour %(p)d h prévues.",
                        r=sums["centre"],
                        p=operation.hours_centre,
                    )
                )
            company = sums["immersion"] + sums["platform"]
            if company != operation.hours_company:
                issues.append(
                    _(
                        "Le rythme compte %(r)d h en entreprise pour %(p)d h prévues.",
                        r=company,
                        p=operation.hours_company,
                    )
                )
    platform_employers = {p.employer_id for p in items if p.kind == "platform"}
    for module in design.section(SectionKey.MODULES).content.get("items", []):
        if (
            module.get("place") == "platform"
            and module.get("employer_id") not in platform_employers
        ):
            issues.append(
                _(
                    "Le module « %(m)s » a lieu sur un plateau technique d'entreprise sans "
                    "période prévue sur ce plateau.",
                    m=module.get("title", ""),
                )
            )
    return issues
