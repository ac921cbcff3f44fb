"""Change lists of a million rows: counted exactly when that is cheap, else estimated.

Django's change list counts its rows with ``SELECT COUNT(*)`` on every page,
and once more without the filters ("N total"); over a million recipients or
items that is most of the page's time.  ``EstimatedCountAdminMixin`` gives a
ModelAdmin (BeneficiaryAdmin, ItemAdmin) a paginator that

- reads the first page before counting: a list that fits on it (a search
  finding a few people) needs no count;
- counts exactly every list of a table the planner expects to hold at most
  ``EXACT_TABLE_ROWS`` rows (a test's, a small deployment's): the planner's
  estimate of each table (``EXPLAIN``: its ``reltuples`` scaled to its size
  now, so that it follows the table between two ANALYZEs and is never the -1
  of a table not analysed yet) is asked once per process every few minutes;
- never counts a larger table whole, and shows that estimate instead;
- counts a filtered list of it exactly under a ``statement_timeout`` of
  ``COUNT_TIMEOUT_MS`` (``SET LOCAL`` sent with the count, in a savepoint inside
  a transaction, so the setting ends with it), and shows the planner's estimate
  of the filtered query (``EXPLAIN (FORMAT JSON)``) when the count is cancelled,
  or when the first page alone took that long to read (a search, whose first
  page is read from every row it finds, as its count would be);

and a change list that pages an estimated list (no "Show all", which could
load a million rows; pages past the estimated last one list what is there),
breaks ties in the direction of the sorted column (so that one index of
(column, id) gives both directions), and whose templates
(templates/admin/pagination.html, search_form.html, actions.html) say
"about 1,000,000" whenever the number is an estimate.

Why not django-postgresql-estimated-count (0.1.0, a single release): it always
estimates, so a search finding three people shows the planner's guess, and
from reltuples a table never analysed counts -1; it does nothing for the
change list's "Show all" or its wording.  What the admin needs is this module.
"""

import json
import time

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ALL_VAR, PAGE_VAR, ChangeList
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import OperationalError, connections, transaction
from django.db.models import QuerySet
from django.db.models.sql.where import AND, WhereNode
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from psycopg2 import errors

# A table the planner expects to hold at most this many rows is always counted exactly;
# a larger one is never counted whole.
EXACT_TABLE_ROWS = 100_000
# A count taking longer than this is cancelled and the estimate shown instead.
COUNT_TIMEOUT_MS = 50


def estimated_rows(queryset: QuerySet) -> int:
    """Return the planner's estimate of the rows of ``queryset`` (one EXPLAIN, nothing run).

    Conditions that only narrow another one of the query, and that the planner
    would take as independent of it (``estimate_ignores``, such as
    beneficiaries.selectors.WordsInOrder), are left out: it would expect a few
    dozen names where there are thousands.
    """
    query = queryset.order_by().query  # a copy, its conditions' tree too
    _leave_out_narrowing(query.where)
    try:
        sql, params = query.sql_with_params()
    except EmptyResultSet:
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):  # psycopg2 parses json columns; a cast to text would not
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _leave_out_narrowing(node: WhereNode) -> None:
    """Remove the ``estimate_ignores`` conditions of ``node`` where all must hold (AND)."""
    if node.connector != AND or node.negated:
        return
    node.children = [
        child for child in node.children if not getattr(child, "estimate_ignores", False)
    ]
    for child in node.children:
        if isinstance(child, WhereNode):
            _leave_out_narrowing(child)


# The count of a query, in one statement string that PostgreSQL runs as one transaction:
# its settings end with it.  The count goes through a setting of the transaction to the
# last statement, which is what the driver returns.  Why: when the timer fires just as
# a statement ends, PostgreSQL 15 raises "canceling statement due to statement timeout"
# on the next statement the backend runs; with that one in the same string, the error
# stays the count's, and never reaches the connection's next command (a session's save,
# a user's write), whichever client a pooler gives the backend to next.  Seen a few
# times in a thousand counts stopped by their timeout, under heavy writes.
_TIMED = (
    "SET LOCAL max_parallel_workers_per_gather = 0; "
    "SET LOCAL statement_timeout = {timeout_ms}; "
    "SELECT set_config('vss_program.count', ({sql})::text, true); "
    "SELECT current_setting('vss_program.count')::bigint"
)


def count_within(queryset: QuerySet, timeout_ms: int) -> int | None:
    """Return ``queryset.count()``, or None when it takes longer than ``timeout_ms``.

    The timeout is set by ``SET LOCAL`` sent with the count (``_TIMED``): no
    other query.  Inside a transaction the count runs in a savepoint, rolled
    back so that the settings do not outlive it.  The count runs without
    parallel workers, which a count held to 50 ms gains little from.
    """
    using = queryset.db
    try:
        if connections[using].get_autocommit():
            return _timed_count(queryset, timeout_ms)
        with transaction.atomic(using=using):
            count = _timed_count(queryset, timeout_ms)
            transaction.set_rollback(True, using=using)
            return count
    except OperationalError as error:
        if isinstance(error.__cause__, errors.QueryCanceled):
            return None
        raise


def _timed_count(queryset: QuerySet, timeout_ms: int) -> int:
    def timed(execute, sql, params, many, context):
        return execute(_TIMED.format(timeout_ms=int(timeout_ms), sql=sql), params, many, context)

    with connections[queryset.db].execute_wrapper(timed):
        return queryset.count()


# (database alias, table) -> (time.monotonic() when estimated, rows): the planner's
# estimate of each large table's size, asked again after TABLE_ROWS_SECONDS.
_table_rows: dict[tuple[str, str], tuple[float, int]] = {}
TABLE_ROWS_SECONDS = 300


def table_rows(model, using: str) -> int:
    """Return the planner's estimate of the rows of ``model``'s table, kept a few minutes.

    One EXPLAIN per table and process every TABLE_ROWS_SECONDS: the unfiltered
    list of a large table then sends no query for its count at all.
    """
    key = (using, model._meta.db_table)
    known = _table_rows.get(key)
    if known is not None and time.monotonic() - known[0] < TABLE_ROWS_SECONDS:
        return known[1]
    rows = estimated_rows(model._base_manager.using(using).all())
    _table_rows[key] = (time.monotonic(), rows)
    return rows


def _whole_table(queryset: QuerySet) -> bool:
    query = queryset.query
    return not query.where and not query.distinct and not query.group_by and not query.combinator


class EstimatedCountPaginator(Paginator):
    """A paginator whose ``count`` is exact when cheap, else PostgreSQL's estimate.

    ``estimated`` tells which.  An estimated count may be below the real one, so
    a page past the estimated last one is not an error: it lists what is there.
    With ``first_page``, the first page is read before anything is counted: a
    list that fits on it (a search finding a few people) needs no count at all.
    """

    exact_table_rows = EXACT_TABLE_ROWS
    count_timeout_ms = COUNT_TIMEOUT_MS

    def __init__(self, *args, first_page: bool = False, keys_first: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.first_page = first_page
        self.keys_first = keys_first
        # The first page's rows, when read before counting; other pages' rows, once read.
        self.first_page_rows = None
        self._pages = {}

    @cached_property
    def _count_and_estimated(self) -> tuple[int, bool]:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count, False
        if self.first_page:
            fits = self.per_page + self.orphans
            start = time.perf_counter()
            rows = list(self._rows(0, fits + 1))
            reading_ms = (time.perf_counter() - start) * 1000
            if len(rows) <= fits:
                self.first_page_rows = rows
                return len(rows), False
            self.first_page_rows = rows[: self.per_page]
        else:
            reading_ms = 0
        table = table_rows(queryset.model, queryset.db)
        if table <= self.exact_table_rows:
            # A small table is counted exactly, however slow the machine is today.
            return queryset.count(), False
        if _whole_table(queryset):
            return self._at_least_first_page(table), True
        if reading_ms > self.count_timeout_ms:
            # The first page of a list that no index keeps in order (a search) is read
            # from every row found, as a count would be: that count would be cancelled.
            return self._estimate(queryset), True
        exact = count_within(queryset, self.count_timeout_ms)
        if exact is not None:
            return exact, False
        return self._estimate(queryset), True

    def _estimate(self, queryset: QuerySet) -> int:
        return self._at_least_first_page(estimated_rows(queryset))

    def _at_least_first_page(self, estimate: int) -> int:
        # Never fewer than the rows the first page found (it was full).
        known = self.per_page + self.orphans + 1 if self.first_page_rows is not None else 0
        return max(estimate, known)

    @property
    def count(self) -> int:
        return self._count_and_estimated[0]

    @property
    def estimated(self) -> bool:
        return self._count_and_estimated[1]

    def validate_number(self, number):
        if not self.estimated:
            return super().validate_number(number)
        # Any whole number from 1: pages past the estimated last one may have rows.
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        if number == 1 and self.first_page_rows is not None:
            return self._get_page(self.first_page_rows, number, self)
        if number not in self._pages:
            # Kept: the change list asks for its page twice (EstimatedCountChangeList).
            bottom = (number - 1) * self.per_page
            top = bottom + self.per_page
            if not self.estimated and top + self.orphans >= self.count:
                top = self.count
            self._pages[number] = self._rows(bottom, top)
        return self._get_page(self._pages[number], number, self)

    def _rows(self, bottom: int, top: int):
        """Return the rows from ``bottom`` to ``top``: far into a list, or with
        ``keys_first``, their keys first, then the rows.

        A page past the first skips ``bottom`` rows, and with them their joins
        (the person of each card, its quota's unit, its sponsor): 5,000 rows
        joined for page 100 of the cards and books.  Its keys are read first,
        from the ordering's index alone, then only its rows with their joins.
        ``keys_first`` does so for the first page too: where the planner expects
        a filter to keep far fewer rows than it does (an area of the cards and
        books: 600 of 51,000), it joins them all before sorting them.
        """
        queryset = self.object_list
        plain = not bottom and not self.keys_first
        if plain or not isinstance(queryset, QuerySet) or queryset.query.distinct:
            return queryset[bottom:top]
        keys = list(queryset.values_list("pk", flat=True)[bottom:top])
        rows = queryset.filter(pk__in=keys).in_bulk()
        # A row deleted between the two reads is left out.
        return [rows[key] for key in keys if key in rows]


class EstimatedCountChangeList(ChangeList):
    """A change list that pages an estimated list (never shows it all) and says it is estimated.

    A search's results are listed newest first, in the order of no column, when
    the ModelAdmin says so (``search_ordering``).  Why: sorted by name, the
    first page of "Dương Thị" is the 50 first of the 15,000 people so named,
    who must all be read to be sorted; and read along the names' index instead,
    as the planner prefers when a search finds many, the names before "Dương"
    are read first, a fifth of the table.  Newest first, the first page is the
    first 50 found reading the primary key backwards, whose order has nothing to
    do with the words: the planner's guess of how far to read is right.
    """

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        if self._search_ordering():
            self.sortable_by = []  # the headers then offer no sorting

    def _search_ordering(self) -> list[str] | None:
        return getattr(self.model_admin, "search_ordering", None) if self.query else None

    def get_ordering(self, request, queryset):
        if search_ordering := self._search_ordering():
            return list(search_ordering)
        # Django breaks ties by "-pk" whatever the direction of the column sorted by: an
        # index of (column, id) then gives the rows in order only backwards.  The ties
        # go the column's way instead, so that both directions read one index.
        ordering = super().get_ordering(request, queryset)
        if len(ordering) > 1 and ordering[-1] == "-pk" and isinstance(ordering[-2], str):
            ordering[-1] = "-pk" if ordering[-2].startswith("-") else "pk"
        return ordering

    def get_results(self, request):
        super().get_results(request)
        paginator = self.paginator
        self.result_count_estimated = getattr(paginator, "estimated", False)
        if self.result_count_estimated:
            # The estimate may be far below the real number: never load the list whole.
            self.can_show_all = False
            self.multi_page = True
            self.result_list = paginator.page(self.page_num).object_list
        elif not self.multi_page and getattr(paginator, "first_page_rows", None) is not None:
            # Every row fitted on the first page, read before counting: not read again.
            self.result_list = paginator.first_page_rows


class EstimatedCountAdminMixin:
    """For a ModelAdmin of a large table: counts exact when cheap, else estimated and said so."""

    paginator = EstimatedCountPaginator
    # Django would count the whole table once more for "N total", and with ?_facets
    # every filter's every choice.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # Read every page's keys before its rows (EstimatedCountPaginator._rows).
    keys_first = False

    def action_checkbox(self, obj):
        # Django's, written directly: rendering a CheckboxInput through the template
        # engine for each row is half of a 50-row page's time.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    def get_changelist(self, request, **kwargs):
        return EstimatedCountChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # The change list's first page (not "Show all"): read it before counting.
        first_page = request.GET.get(PAGE_VAR, "1") == "1" and ALL_VAR not in request.GET
        return self.paginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            first_page=first_page,
            keys_first=self.keys_first,
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if getattr(changelist, "result_count_estimated", False):
            count = changelist.result_count
            context["selection_note_all"] = ngettext(
                "All of about %(total_count)s selected",
                "All of about %(total_count)s selected",
                count,
            ) % {"total_count": number_format(count, force_grouping=True)}
        return response
