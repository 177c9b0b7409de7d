"""DRF's page-number pagination (count, next, previous, results), with ?page_size= up to 200."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
