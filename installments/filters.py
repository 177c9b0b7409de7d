import django_filters
from django.db.models import F

from installments.models import Installment, InstallmentPlan, Product
from installments.selectors import overdue_cutoff, unpaid_only
from taqsit.filters import FilterSet


class ProductFilter(FilterSet):
    price_min = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    price_max = django_filters.NumberFilter(field_name="price", lookup_expr="lte")

    class Meta:
        model = Product
        fields = ["is_active", "sku"]


class PlanFilter(FilterSet):
    start_after = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_before = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    total_min = django_filters.NumberFilter(field_name="total_payable", lookup_expr="gte")
    total_max = django_filters.NumberFilter(field_name="total_payable", lookup_expr="lte")
    number = django_filters.NumberFilter(field_name="number")

    class Meta:
        model = InstallmentPlan
        fields = ["status", "customer", "installment_frequency", "finance_charge_method"]


class InstallmentFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=Installment.Status.choices, method="filter_status")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lt")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    plan = django_filters.UUIDFilter(field_name="plan_id")
    customer = django_filters.UUIDFilter(field_name="plan__customer_id")
    amount_min = django_filters.NumberFilter(field_name="amount_due", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(field_name="amount_due", lookup_expr="lte")

    class Meta:
        model = Installment
        fields = ["status", "plan", "customer", "due_before", "due_after"]

    def filter_status(self, queryset, name, value):
        """``overdue`` is computed from dates (due date + grace before the merchant's today), the rest stored;
        a row past due and unpaid shows as overdue before the daily job marks it, so no other status finds it."""
        merchant = getattr(self.request.user, "merchant", None)
        if merchant is None:
            return queryset.filter(status=value)
        cutoff = overdue_cutoff(merchant)
        if value == Installment.Status.OVERDUE:
            # In place, not ``pk IN (...)``: the unpaid-by-due-date index then serves the filter and the order.
            return unpaid_only(queryset.filter(merchant=merchant), merchant=merchant).filter(due_date__lt=cutoff)
        return queryset.filter(status=value).exclude(amount_paid__lt=F("amount_due"), due_date__lt=cutoff)
