import django_filters

from customers.models import Customer
from taqsit.filters import FilterSet


class CustomerFilter(FilterSet):
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = Customer
        fields = ["language", "sms_opt_out", "email_opt_out", "preferred_channel", "origin"]
