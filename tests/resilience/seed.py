"""Load a resilience test's data set into the throwaway database named by DATABASE_URL, through the services.

    DATABASE_URL=... python -m tests.resilience.seed '<spec as JSON>'

The spec: ``{"merchants": [{"name", "clerks" (how many, default 1), "late_fee_amount" (a fixed fee; none by
default), "plans": [{"count", "start_days_ago", "step" (days further back for each next plan), "total", "down",
"installments", "frequency"}]}]}``. Every merchant is in a time zone where it is far from midnight now (so the
test and the app's processes agree on "today"), with no grace days and no quiet hours; every customer has a phone
and an e-mail address. Prints what the test needs as JSON: the users' password, and per merchant its id, today,
users and plans (id, remaining balance).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from decimal import Decimal

PASSWORD = "Counter-Pass-2026"


def _timezone_far_from_midnight() -> str:
    from django.utils import timezone

    from taqsit.models import Merchant

    for name in ("UTC", "Asia/Tokyo", "America/New_York"):
        if 1 <= timezone.localtime(timezone.now(), Merchant(timezone=name).tzinfo).hour <= 22:
            return name
    raise AssertionError("unreachable: these three zones cannot all be within an hour of midnight")


def seed(spec: dict) -> dict:
    from django.contrib.auth.hashers import make_password

    from customers.services import customer_create
    from installments.services import plan_create
    from notifications.models import NotificationSettings
    from taqsit.dates import merchant_today
    from taqsit.models import Merchant, Role, User
    from taqsit.tenancy import merchant_scope

    password_hash = make_password(PASSWORD)  # hashed once: PBKDF2 is slow on purpose
    zone = _timezone_far_from_midnight()
    out = {"password": PASSWORD, "merchants": []}
    for m_index, spec_merchant in enumerate(spec["merchants"]):
        fee = spec_merchant.get("late_fee_amount")
        merchant = Merchant.objects.create(
            name=spec_merchant["name"],
            currency="USD",
            timezone=zone,
            language="en",
            country="US",
            grace_days=0,
            late_fee_method=Merchant.LateFeeMethod.FIXED if fee else Merchant.LateFeeMethod.NONE,
            late_fee_amount=Decimal(fee or "0"),
        )
        # The merchant's rows are written as its requests would write them: for it only (taqsit/tenancy.py).
        with merchant_scope(merchant.pk):
            NotificationSettings.objects.create(merchant=merchant, quiet_hours_start=None, quiet_hours_end=None)
            prefix = f"m{m_index}"
            owner = User.objects.create(
                merchant=merchant, role=Role.OWNER, username=f"{prefix}-owner", email=f"{prefix}-owner@example.com"
            )
            clerks = [
                User.objects.create(
                    merchant=merchant,
                    role=Role.CLERK,
                    username=f"{prefix}-clerk{n}",
                    email=f"{prefix}-c{n}@example.com",
                )
                for n in range(spec_merchant.get("clerks", 1))
            ]
            User.objects.filter(merchant=merchant).update(password=password_hash)
            today = merchant_today(merchant)
            plans = []
            for group in spec_merchant.get("plans", []):
                for index in range(group["count"]):
                    number = len(plans)
                    customer = customer_create(
                        actor=owner,
                        name=f"Customer {prefix}-{number}",
                        phone=f"+1415555{number:04d}",  # unique per merchant
                        email=f"customer-{prefix}-{number}@example.com",
                    )
                    plan = plan_create(
                        actor=owner,
                        customer=customer,
                        total_amount=Decimal(group.get("total", "1000.00")),
                        down_payment=Decimal(group.get("down", "200.00")),
                        number_of_installments=group.get("installments", 4),
                        installment_frequency=group.get("frequency", "monthly"),
                        start_date=today
                        - timedelta(days=group.get("start_days_ago", 0) + group.get("step", 0) * index),
                    )
                    plans.append({"id": str(plan.pk), "remaining": str(plan.remaining_balance)})
            out["merchants"].append(
                {
                    "id": str(merchant.pk),
                    "name": merchant.name,
                    "today": today.isoformat(),
                    "owner": owner.username,
                    "clerks": [clerk.username for clerk in clerks],
                    "plans": plans,
                }
            )
    return out


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taqsit.settings")
    import django

    django.setup()
    print(json.dumps(seed(json.loads(sys.argv[1]))))  # noqa: T201 - the test reads this line


if __name__ == "__main__":
    main()
