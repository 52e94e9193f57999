"""The operation page's cards read their figures in one statement (issue #16).

Each area's card (co-design, recruitment, immersions, follow-up) reads a few counts of
the operation, and « À faire » reads the same: each area says which read its card makes
(``card_reads``, a ``memo.Read``), and the page runs them side by side before rendering
(``memo.prefetch``), with the layout's (``core.layout``); the cards, « À faire » and
the layout then find them in the request's memo.
"""

from portal.accounts.access import current_org
from portal.core.layout import facts_read
from portal.core.memo import prefetch
from portal.design import queries as design
from portal.followup import queries as followup
from portal.immersions import queries as immersions
from portal.operations.models import Operation
from portal.recruitment import queries as recruitment


def prefetch_cards(operation: Operation) -> None:
    """Read every card's figures of ``operation``, and the counts « À faire » reads beyond
    them (immersions, follow-up), in one query (before « À faire »)."""
    prefetch(
        facts_read(),  # the layout's, read by every full page
        *design.card_reads(operation),
        *recruitment.card_reads(operation),
        *immersions.card_reads(operation),
        *followup.card_reads(operation),
        *immersions.todo_reads([operation], org=current_org()),
        *followup.todo_reads(operation, org=current_org()),
    )
