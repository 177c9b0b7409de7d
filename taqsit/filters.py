"""Filter backends the API shares (settings: REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"])."""

import operator
import re
from functools import reduce

import django_filters
import django_filters.rest_framework
from django import forms
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext as _
from rest_framework import filters
from rest_framework.exceptions import ValidationError

from taqsit.error_codes import ErrorCode


class SearchFilter(filters.SearchFilter):
    """DRF's search, with a bad term (a null character) reported under ``search`` like any other bad field."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from exc

    def filter_queryset(self, request, queryset, view):
        """DRF's search; a view's ``search_number_field`` also matches a term that is a number or a reference
        (``P-000042``, ``#42``, ``42``) exactly, so a plan is found by the number on its receipt; a view's
        ``search_condition(term) -> Q`` adds what a field lookup cannot say (an EXISTS on related rows, which a
        join would repeat the row for)."""
        number_field = getattr(view, "search_number_field", None)
        extra = getattr(view, "search_condition", None)
        terms = self.get_search_terms(request) if number_field or extra else []
        if not (number_field or extra) or not terms or not getattr(view, "search_fields", None):
            return super().filter_queryset(request, queryset, view)
        lookups = [self.construct_search(str(field), queryset) for field in self.get_search_fields(view, request)]
        conditions = []
        for term in terms:
            condition = reduce(operator.or_, (models.Q(**{lookup: term}) for lookup in lookups))
            match = REFERENCE_PATTERN.match(term) if number_field else None
            if match and int(match[1]) <= MAX_NUMBER:
                condition |= models.Q(**{number_field: int(match[1])})
            if extra is not None:
                condition |= extra(term)
            conditions.append(condition)
        return queryset.filter(reduce(operator.and_, conditions))

    def get_schema_operation_parameters(self, view):
        """``search`` is advertised only where a view searches something."""
        if not getattr(view, "search_fields", None):
            return []
        parameters = super().get_schema_operation_parameters(view)
        fields = ", ".join(field.lstrip("^=@$").replace(LOOKUP_SEP, ".") for field in view.search_fields)
        number = getattr(view, "search_number_field", None)
        extra = f"; or the {number} (42, #42, P-000042)" if number else ""
        extra += getattr(view, "search_condition_help", "")
        for parameter in parameters:
            parameter["description"] = f"Words to find, each in any of: {fields}{extra}."
        return parameters


# A plan's reference as printed (P-000042), as a clerk writes it (#42) or bare (42).
REFERENCE_PATTERN = re.compile(r"^(?:[Pp]-?|#)?0*(\d{1,10})$")
MAX_NUMBER = 2_147_483_647  # PostgreSQL's integer: a longer number matches nothing, rather than failing


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering, strict and total: an unknown ``ordering`` value is a 400 naming the allowed ones (DRF
    drops it silently), and every ordering ends with the primary key, so that walking the pages of a list
    returns every row exactly once even when many rows share the sort key."""

    def allowed_values(self, queryset, view, request=None) -> list[str]:
        fields = [name for name, _label in self.get_valid_fields(queryset, view, {"request": request})]
        return [value for name in fields for value in (name, f"-{name}")]

    def get_ordering(self, request, queryset, view):
        params = request.query_params.getlist(self.ordering_param)
        terms = [term.strip() for param in params for term in param.split(",") if term.strip()]
        if terms:
            allowed = self.allowed_values(queryset, view, request)
            unknown = [term for term in terms if term not in allowed]
            if unknown:
                message = _("Unknown ordering %(unknown)s: use one or more of %(allowed)s, separated by commas.") % {
                    "unknown": ", ".join(unknown),
                    "allowed": ", ".join(allowed),
                }
                raise ValidationError({self.ordering_param: [message]})
            return terms
        return self.get_default_ordering(view) or list(queryset.query.order_by or queryset.model._meta.ordering)

    def filter_queryset(self, request, queryset, view):
        return queryset.order_by(*ordering_total(self.get_ordering(request, queryset, view), queryset.model))

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        queryset = getattr(view, "queryset", None)
        allowed = self.allowed_values(queryset, view, getattr(view, "request", None))
        for parameter in parameters:
            parameter["schema"] = {"type": "string", "enum": allowed}
            parameter["description"] = (
                "Sort by this field, descending with a leading '-'; several, separated by commas, sort by each in "
                "turn. Rows with equal values keep one stable order (by id), so pages never repeat or skip a row."
            )
        return parameters


def ordering_total(ordering, model) -> list:
    """``ordering`` with the primary key appended (in the direction of the last term) unless it is already in it:
    a unique tie-breaker, so a page boundary never falls between rows with equal sort keys at random."""
    ordering = list(ordering)
    names = {term.lstrip("-") for term in ordering if isinstance(term, str)}
    if names & {"pk", model._meta.pk.name}:
        return ordering
    last = ordering[-1] if ordering else ""
    descending = isinstance(last, str) and last.startswith("-")
    return [*ordering, "-pk" if descending else "pk"]


class StrictBooleanField(forms.NullBooleanField):
    """Django's reading of a boolean (``true``/``false``, ``1``/``0``); anything else is an error naming the filter,
    not silently ignored as django-filter would."""

    widget = forms.TextInput

    def to_python(self, value):
        return super().to_python(value.strip().lower() if isinstance(value, str) else value)

    def clean(self, value):
        result = super().clean(value)
        if result is None and value not in (None, ""):
            raise forms.ValidationError(_("Enter true or false."), code=ErrorCode.INVALID)
        return result


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class FilterSet(django_filters.rest_framework.FilterSet):
    """The base of every API filter set: django-filter's, with booleans that refuse what they cannot read and
    relations filtered on the raw id."""

    FILTER_DEFAULTS = {
        **django_filters.rest_framework.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        # django-filter would make a relation a choice of every row of the related table, every merchant's: the
        # browsable API lists them all, and "not a valid choice" tells another merchant's id from none at all.
        # On the raw id, another merchant's customer and an id that exists nowhere both find nothing.
        if field.is_relation and lookup_type == "exact":
            target = field.target_field
            if isinstance(target, models.UUIDField):
                return django_filters.UUIDFilter, {}
            return django_filters.NumberFilter, {}
        return super().filter_for_lookup(field, lookup_type)


class FilterBackend(django_filters.rest_framework.DjangoFilterBackend):
    """django-filter's backend; filter sets generated from ``filterset_fields`` use the strict base too."""

    filterset_base = FilterSet

    def to_html(self, request, queryset, view):
        """The browsable API's filter form. A nested list (``/customers/{id}/plans/``) filters rows of its filter
        set's model, while the renderer passes the route's queryset (customers): give the form the rows' model."""
        model = getattr(getattr(getattr(view, "filterset_class", None), "_meta", None), "model", None)
        if model is not None and queryset is not None and not issubclass(queryset.model, model):
            queryset = model._default_manager.none()
        return super().to_html(request, queryset, view)
