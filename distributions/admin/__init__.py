"""The admin of plans, quotas, pledges, hand-overs, cards and books.

Django's autodiscovery imports this package; the modules below register their
pages in this order.  ``sponsors`` and ``recipients`` replace the pages the
sponsors and beneficiaries apps registered (their own admin modules, which
they import, run first).
"""

# isort: off
from .plans import PlanAdmin, QuotaAdmin, QuotaInline
from .sponsors import PledgeAdmin, PledgeInline, SponsorWithPledgesAdmin
from .handovers import HandoverAdmin, HandoverItemInline
from .items import ItemAdmin
from .recipients import BeneficiaryItemInline, BeneficiaryWithItemsAdmin, HasCardFilter, PlanFilter

# isort: on
from .common import RecordKeepingDeleteMixin

__all__ = [
    "BeneficiaryItemInline",
    "BeneficiaryWithItemsAdmin",
    "HandoverAdmin",
    "HandoverItemInline",
    "HasCardFilter",
    "ItemAdmin",
    "PlanAdmin",
    "PlanFilter",
    "PledgeAdmin",
    "PledgeInline",
    "QuotaAdmin",
    "QuotaInline",
    "RecordKeepingDeleteMixin",
    "SponsorWithPledgesAdmin",
]
