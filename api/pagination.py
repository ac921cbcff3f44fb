"""Pages with a bounded size and a stable order.

Small tables (plans, quotas, sponsors, pledges, hand-overs, units) are paged
by number with a count.  Recipients and items, which run into millions, are
paged by cursor on their id: each page is one indexed range scan, with no
``COUNT(*)`` and no drift when rows are added while a partner walks the list.
"""

from rest_framework import pagination

MAX_PAGE_SIZE = 200


class PagePagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class IdCursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "id"
