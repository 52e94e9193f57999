"""What the « À faire » page and the home's card share: a page of the current
organisation's and user's duties with their total (``across.py`` reads them)."""

import math

from flask_login import current_user

from portal.accounts.access import current_membership, current_org
from portal.core.pagination import PER_PAGE, Page
from portal.todo import across


def duties_page(per_page: int = PER_PAGE, number: int = 1) -> Page:
    """Page ``number`` of the current organisation's and user's duties (the last one when
    past it), with their total."""
    user, org, membership = current_user, current_org(), current_membership()
    # The page asked is known before the count: past the last, the last is read again.
    total, items = across.count_and_page(
        user, org, membership, limit=per_page, offset=(number - 1) * per_page
    )
    last = max(1, math.ceil(total / per_page))
    if number > last:
        number = last
        offset = (last - 1) * per_page
        items = across.page(user, org, membership, limit=per_page, offset=offset, operations=False)
    return Page(items=items, page=number, per_page=per_page, total=total)
