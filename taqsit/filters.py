"""Filter backends the API shares (settings: REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"])."""

import django_filters
import django_filters.rest_framework
from django import forms
from django.db import models
from django.utils.translation import gettext as _
from rest_framework import filters
from rest_framework.exceptions import ValidationError


class SearchFilter(filters.SearchFilter):
    """DRF's search, with a bad term (a null character) reported under ``search`` like any other bad field."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from exc


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``); anything else is an error naming the filter, not silently ignored."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError(_("Enter true or false."), code="invalid")

    def validate(self, value) -> None:
        """Empty means "no filter"; ``to_python`` refused everything else that is not a boolean."""


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
