import django_filters

from collectors.models import Assignment, Contact, Promise
from taqsit.filters import FilterSet


class AssignmentFilter(FilterSet):
    class Meta:
        model = Assignment
        fields = ["plan", "collector"]


class ContactFilter(FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="contacted_at", lookup_expr="gte")

    class Meta:
        model = Contact
        fields = ["plan", "made_by", "kind", "outcome"]


class PromiseFilter(FilterSet):
    status = django_filters.ChoiceFilter(
        field_name="shown",
        choices=Promise.Status.choices,
        help_text="As shown: an open promise past its date is broken.",
    )
    promised_from = django_filters.DateFilter(field_name="promised_on", lookup_expr="gte")
    promised_to = django_filters.DateFilter(field_name="promised_on", lookup_expr="lte")

    class Meta:
        model = Promise
        fields = ["plan", "collector"]
