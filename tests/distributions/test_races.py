"""Two people taking the last card of a quota at the same moment, on real connections."""

import threading

import pytest
from django.db import connection

from distributions.models import Item, Quota
from distributions.services import CardDetails, QuotaExhausted, item_issue
from tests.factories import JAN_2024, make_beneficiary, make_plan, make_pledge, make_quota, unit


def race(targets) -> list:
    """Run each target in its own thread and connection, all released at once."""
    start = threading.Barrier(len(targets))
    outcomes = [None] * len(targets)

    def run(index, target):
        try:
            start.wait()
            outcomes[index] = target()
        except Exception as error:  # the outcome under test, whatever it is
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("limit", ["quota", "pledge"])
def test_exactly_one_of_two_simultaneous_issuances_gets_the_last_place(
    committed_reference_data, limit
):
    plan = make_plan()
    quota = make_quota(plan, unit("2024", "080"), 1 if limit == "quota" else 10, 0)
    pledge = make_pledge(plan, cards=1 if limit == "pledge" else 10, books=0)
    people = [make_beneficiary(), make_beneficiary()]

    def take_last_card(person):
        return lambda: item_issue(
            beneficiary=person,
            quota=quota,
            pledge=pledge,
            details=CardDetails(valid_from=JAN_2024),
            issued_on=JAN_2024,
            actor=None,
        )

    outcomes = race([take_last_card(person) for person in people])

    winners = [outcome for outcome in outcomes if isinstance(outcome, Item)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, QuotaExhausted)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    assert Item.objects.filter(quota=quota).count() == 1
    assert Quota.objects.get(pk=quota.pk).cards_used == 1
