"""Filter backends the API shares (settings: REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"])."""

from rest_framework import filters
from rest_framework.exceptions import ValidationError


class SearchFilter(filters.SearchFilter):
    """DRF's search, with a bad term (a null character) reported under ``search`` like any other bad field."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from exc
