"""A service's transaction (taqsit/atomic.py): a savepoint when nested, so a caller may recover from its error;
joined to an all-or-nothing transaction, which the failure rolls back whole."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from taqsit.atomic import all_or_nothing, service_atomic
from taqsit.models import Merchant

pytestmark = pytest.mark.django_db


@service_atomic
def _rename(merchant: Merchant, name: str, *, fail: bool = False) -> None:
    Merchant.objects.filter(pk=merchant.pk).update(name=name)
    if fail:
        raise ValueError(f"refused: {name}")


def _verbs(captured) -> list[str]:
    return [query["sql"].split()[0] for query in captured.captured_queries]


def test_nested_in_a_callers_transaction_it_is_a_savepoint_the_caller_recovers_from(merchant):
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured, pytest.raises(ValueError, match="refused: Lost"):
            _rename(merchant, "Lost", fail=True)
        _rename(merchant, "Kept")  # the transaction goes on

    assert _verbs(captured) == ["SAVEPOINT", "UPDATE", "ROLLBACK", "RELEASE"]  # to the savepoint, then released
    merchant.refresh_from_db()
    assert merchant.name == "Kept"


def test_all_or_nothing_it_joins_the_transaction_and_a_failure_rolls_back_all_of_it(merchant):
    before = merchant.name
    with pytest.raises(ValueError, match="refused: Gone"), transaction.atomic(), all_or_nothing():
        Merchant.objects.filter(pk=merchant.pk).update(name="First")
        with CaptureQueriesContext(connection) as captured:
            _rename(merchant, "Gone", fail=True)

    assert _verbs(captured) == ["UPDATE"]
    merchant.refresh_from_db()
    assert merchant.name == before
    # Outside the block, a savepoint again.
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        _rename(merchant, "Again")
    assert _verbs(captured) == ["SAVEPOINT", "UPDATE", "RELEASE"]
