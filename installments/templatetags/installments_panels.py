"""The plans panel of the customer page, drawn by installments, which owns the plans: customers need not import
installments (the layers, pyproject.toml). The page has scoped the customer already."""

from __future__ import annotations

from django import template

from installments.selectors import CustomerPlans, customer_plans_owed

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_plans(context, customer) -> CustomerPlans:
    """The customer's plans, newest first, and what they still owe on them."""
    return customer_plans_owed(merchant=context["request"].user.merchant, customer=customer)
