"""Guards of the first steps of an operation, which read only the operations area.

A guard returns the list of unmet conditions, in French; an empty list lets the step
happen. The transition table and the verbs that move an operation are in
``lifecycle.py``, which sits above the areas.
"""

from collections.abc import Callable

from flask_babel import gettext as _

from portal.operations.models import Funding, Operation
from portal.operations.queries import existing_analysis, needs_by_org

Guard = Callable[[Operation], list[str]]


def guard_to_analysis(operation: Operation) -> list[str]:
    """The Région acknowledged the need and the funding is settled."""
    unmet = []
    if operation.acknowledged_at is None:
        unmet.append(_("La Région n'a pas encore accusé réception du besoin."))
    if operation.funding == Funding.PENDING:
        unmet.append(
            _(
                "Le besoin est hors marché : la Région doit décider d'une consultation "
                "au titre du Fonds réactifs emploi formation."
            )
        )
    elif operation.funding == Funding.DECLINED:
        unmet.append(_("La Région n'a pas retenu ce besoin hors marché."))
    if operation.provider_id is None:
        unmet.append(_("Aucun organisme de formation porteur n'est désigné."))
    return unmet


def guard_to_co_design(operation: Operation) -> list[str]:
    """At least one employer need with positions, and the analysis answered by the Région."""
    unmet = []
    # The page's reads (once per request; under ``advance``'s lock, afresh).
    if not any(need.positions for need in needs_by_org(operation).values()):
        unmet.append(_("Aucun employeur n'a encore indiqué de poste à pourvoir."))
    analysis = existing_analysis(operation)
    if analysis is None or not analysis.target_publics:
        unmet.append(_("Les publics visés de l'analyse des besoins ne sont pas renseignés."))
    if analysis is None or analysis.sent_at is None:
        unmet.append(_("L'analyse des besoins n'a pas été transmise à la Région."))
    elif analysis.answered_at is None or analysis.answered_at < analysis.sent_at:
        unmet.append(_("La Région n'a pas encore répondu à l'analyse des besoins transmise."))
    return unmet
