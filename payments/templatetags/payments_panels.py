"""The payments panels of the customer and plan pages, drawn by payments, which owns the rows: the pages' apps
need not import payments (the layers, pyproject.toml). The page has scoped the customer or plan already."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from installments.selectors import ScheduleTotals, plan_schedule_totals
from payments.selectors import payment_list

register = template.Library()

# A customer's page shows their latest payments; the API lists them all, a page at a time.
CUSTOMER_PAYMENTS_SHOWN = 50


@register.simple_tag(takes_context=True)
def customer_payments(context, customer) -> list:
    """The customer's latest payments, newest first, with their plans and allocations."""
    merchant = context["request"].user.merchant
    return list(payment_list(merchant=merchant, customer=customer)[:CUSTOMER_PAYMENTS_SHOWN])


@dataclass(frozen=True)
class PlanPayments:
    payments: list
    totals: ScheduleTotals


@register.simple_tag
def plan_payments(plan, rows) -> PlanPayments:
    """Every payment of the plan, newest first, with their allocations, and the schedule's foot, which counts the
    down payments given back (one query for both: ``rows`` are all the plan's installments, the page has them)."""
    payments = list(payment_list(merchant=plan.merchant, plan=plan))
    return PlanPayments(payments=payments, totals=plan_schedule_totals(plan=plan, rows=rows, payments=payments))
