"""The imports over the API: a job (status, progress, counts) and its rows as the preview lists them."""

from __future__ import annotations

from rest_framework import serializers

from imports.models import ImportJob, ImportRow
from taqsit.models import Language
from taqsit.serializers import StrictSerializer


class ImportJobSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    confirmed_by = serializers.CharField(source="confirmed_by.username", read_only=True, allow_null=True)
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_format",
            "original_name",
            "size",
            "sha256",
            "language",
            "status",
            "total",
            "processed",
            "percent",
            "to_create",
            "to_skip",
            "changed",
            "errors",
            "created_count",
            "failure",
            "created_by",
            "created_at",
            "confirmed_by",
            "confirmed_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportJobCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    file = serializers.FileField(help_text="A CSV (UTF-8) or XLSX file.")
    language = serializers.ChoiceField(
        choices=Language.choices,
        required=False,
        help_text="The language the file's amounts and dates are written in; the user's, else the merchant's.",
    )


class ProblemSerializer(serializers.Serializer):
    column = serializers.CharField(help_text="The column's header as the file writes it.")
    message = serializers.CharField()


class ImportRowSerializer(serializers.ModelSerializer):
    problems = ProblemSerializer(many=True, read_only=True)

    class Meta:
        model = ImportRow
        fields = ["number", "outcome", "key", "summary", "problems"]
        read_only_fields = fields
