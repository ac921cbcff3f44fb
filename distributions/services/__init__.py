"""Every write of plans, quotas, pledges, hand-overs, cards and books.

The admin, the API, importers and commands call these functions; each runs in
one transaction and locks the quota and pledge rows it counts against
(``select_for_update``), so two people taking the last card of a quota at the
same moment cannot both succeed.  The counters on quotas, pledges and plans
change only here, and check constraints in PostgreSQL refuse any overspending
that slipped past.
"""

from .errors import OutOfScope, QuotaExhausted
from .handovers import handover_save
from .items import item_cancel, item_confirm, item_deliver, item_issue
from .quotas import plan_save, pledge_save, quota_delete, quota_set
from .tally import item_tally_differences, item_tally_rebuild
from .values import (
    BookDetails,
    CardDetails,
    book_income,
    book_value,
    card_end,
    card_value,
    item_details,
    item_value,
)

__all__ = [
    "BookDetails",
    "CardDetails",
    "OutOfScope",
    "QuotaExhausted",
    "book_income",
    "book_value",
    "card_end",
    "card_value",
    "handover_save",
    "item_cancel",
    "item_confirm",
    "item_deliver",
    "item_details",
    "item_issue",
    "item_tally_differences",
    "item_tally_rebuild",
    "item_value",
    "plan_save",
    "pledge_save",
    "quota_delete",
    "quota_set",
]
