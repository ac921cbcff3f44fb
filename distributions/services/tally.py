"""The tally of items (ItemTally): rebuilt after writes that bypass its triggers, and checked."""

from django.db import connection, transaction

from ..models import TALLY_KEY, tally_rows_sql

_KEY = ", ".join(TALLY_KEY)
_FROM_ITEMS = f"""
    SELECT {_KEY}, sum(items) AS items, sum(value) AS value
      FROM ({tally_rows_sql("distributions_item")}) AS rows
     GROUP BY {_KEY}
"""


@transaction.atomic
def item_tally_rebuild() -> int:
    """Count every item again into the tally; return the number of tally rows.

    For writes made with the triggers off (a bulk load in ``replica`` mode, a
    restore of the items alone).  The items table is locked against writes
    meanwhile, so nothing slips between the count and the swap.
    """
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE distributions_item IN SHARE MODE")
        cursor.execute("TRUNCATE distributions_itemtally")
        cursor.execute(f"INSERT INTO distributions_itemtally ({_KEY}, items, value) {_FROM_ITEMS}")
        return cursor.rowcount


def item_tally_differences() -> list[tuple]:
    """Return the tally rows that a count of the items does not give, and the counts that
    the tally lacks (none when in step).  EXCEPT compares NULL weeks as equal."""
    tally = (
        f"SELECT {_KEY}, items, value FROM distributions_itemtally WHERE items <> 0 OR value <> 0"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"({tally} EXCEPT {_FROM_ITEMS}) UNION ALL ({_FROM_ITEMS} EXCEPT {tally})")
        return cursor.fetchall()
