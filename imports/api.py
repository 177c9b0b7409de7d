"""``/api/imports/``: upload a CSV or XLSX file (multipart), follow its check, page through its preview rows,
confirm it; owners and managers only. The worker does the checking and the importing (imports/tasks.py)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from imports.models import ImportJob, ImportRow
from imports.selectors import import_job_list, import_row_list
from imports.serializers import ImportJobCreateSerializer, ImportJobSerializer, ImportRowSerializer
from imports.services import import_confirm, import_job_create
from payments.api import ERRORS
from taqsit.api import TenantViewSetMixin
from taqsit.permissions import Action
from taqsit.serializers import NoBodySerializer


@extend_schema_view(
    list=extend_schema(responses=ImportJobSerializer(many=True)),
    retrieve=extend_schema(responses={200: ImportJobSerializer, 404: ERRORS[404]}),
)
class ImportJobViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The merchant's spreadsheet imports, newest first."""

    queryset = ImportJob.objects.select_related("created_by", "confirmed_by")
    serializer_class = ImportJobSerializer
    read_permission = Action.DATA_IMPORT
    write_permission = Action.DATA_IMPORT
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        merchant = getattr(self.request.user, "merchant", None)
        return ImportJob.objects.none() if merchant is None else import_job_list(merchant=merchant)

    @extend_schema(
        request={"multipart/form-data": ImportJobCreateSerializer},
        responses={201: ImportJobSerializer, **ERRORS},
    )
    def create(self, request, *args, **kwargs):
        """Upload a file of ``customers``, ``products`` or ``plans`` (multipart: ``kind``, ``file``, optional
        ``language``). The worker checks every row: follow ``status`` and ``processed``/``total`` until it is
        ``ready`` (or ``invalid``), read the rows at ``rows/``, then ``confirm/``."""
        serializer = ImportJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = import_job_create(
            actor=request.user, kind=data["kind"], upload=data["file"], language=data.get("language")
        )
        job = self.get_queryset().get(pk=job.pk)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("outcome", str, enum=ImportRow.Outcome.values, description="Only rows with this outcome."),
            OpenApiParameter("problems", bool, description="Only the rows with errors or changes."),
        ],
        responses={200: ImportRowSerializer(many=True), 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], url_path="rows", url_name="rows", filter_backends=[], ordering=None)
    def rows(self, request, pk=None):
        """The preview (after the import, the result), a page at a time in file order: each row's outcome
        (``create``, ``skip``, ``changed``, ``error``; ``created`` once imported) and its problems, each with its
        column as the file names it. A missing column is reported on the header's row."""
        job = get_object_or_404(self.get_queryset(), pk=pk)
        outcome = request.query_params.get("outcome") or None
        if outcome is not None and outcome not in ImportRow.Outcome.values:
            return Response(
                {"outcome": [f"{outcome!r} is not one of: {', '.join(ImportRow.Outcome.values)}."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        problems_only = request.query_params.get("problems") in ("1", "true", "True")
        page = self.paginate_queryset(import_row_list(job=job, outcome=outcome, problems_only=problems_only))
        return self.get_paginated_response(ImportRowSerializer(page, many=True).data)

    @extend_schema(request=NoBodySerializer, responses={202: ImportJobSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="confirm", url_name="confirm")
    def confirm(self, request, pk=None):
        """Import a checked file without errors: the worker imports every row to create in one transaction, or
        none (``completed`` or ``failed`` with the reason). Refused unless the import is ``ready``."""
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        job = get_object_or_404(self.get_queryset(), pk=pk)
        job = import_confirm(actor=request.user, job=job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
