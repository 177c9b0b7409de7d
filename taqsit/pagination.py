"""DRF's page-number pagination (count, next, previous, results), with ?page_size= up to 200."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request, paginator):
        """An empty or repeated ``page`` is no page number: a 404 like ``page=abc`` (DRF would serve page 1)."""
        values = request.query_params.getlist(self.page_query_param)
        if values and (len(values) > 1 or not values[0].strip()):
            raise NotFound(self.invalid_page_message)
        return super().get_page_number(request, paginator)

    def get_page_size(self, request) -> int:
        """A ``page_size`` that is not one whole number of at least 1 is a 400 naming it (DRF ignores it)."""
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if len(values) > 1:
            raise ValidationError({self.page_size_query_param: ["Give one page size."]})
        try:
            size = int(values[0])
        except ValueError:
            raise ValidationError({self.page_size_query_param: ["A valid integer is required."]}) from None
        if size < 1:
            raise ValidationError({self.page_size_query_param: ["Ensure this value is greater than or equal to 1."]})
        return min(size, self.max_page_size)
