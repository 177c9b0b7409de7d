import django_filters

from auditlog.models import SOURCE_CHOICES, Entry
from auditlog.selectors import object_type_choices
from taqsit.filters import FilterSet


class EntryFilter(FilterSet):
    actor = django_filters.UUIDFilter(field_name="actor_id")
    object_type = django_filters.ChoiceFilter(choices=object_type_choices)
    object_id = django_filters.CharFilter()
    action = django_filters.CharFilter()
    source = django_filters.ChoiceFilter(choices=SOURCE_CHOICES)
    operation = django_filters.ChoiceFilter(choices=Entry.Operation.choices)
    plan = django_filters.UUIDFilter(field_name="plan_id")
    customer = django_filters.UUIDFilter(field_name="customer_id")
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = Entry
        fields = ["actor", "object_type", "object_id", "action", "source", "operation", "plan", "customer"]
