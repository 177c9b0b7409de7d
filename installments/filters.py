import django_filters

from installments.models import Installment, InstallmentPlan, Product
from installments.selectors import installments_with_display_status, overdue_cutoff, unpaid_only
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
        fields = ["status", "origin", "customer", "installment_frequency", "finance_charge_method"]


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
        """The displayed status (``installments_with_display_status``), so a row is found by the status it shows."""
        merchant = getattr(self.request.user, "merchant", None)
        if merchant is None:
            return queryset.filter(status=value)
        if value == Installment.Status.OVERDUE:
            # The same rule written in place, not ``pk IN (...)`` nor an annotation: the unpaid-by-due-date index
            # then serves the filter and the order (a test holds it to the annotation).
            cutoff = overdue_cutoff(merchant)
            return unpaid_only(queryset.filter(merchant=merchant), merchant=merchant).filter(due_date__lt=cutoff)
        return installments_with_display_status(queryset, merchant=merchant).filter(display_status=value)
