import django_filters

from payments.models import Payment
from taqsit.filters import FilterSet


class PaymentFilter(FilterSet):
    date_from = django_filters.DateFilter(field_name="payment_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="payment_date", lookup_expr="lte")
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte")
    customer = django_filters.UUIDFilter(field_name="plan__customer_id")

    class Meta:
        model = Payment
        fields = ["plan", "status", "payment_method", "is_down_payment"]
