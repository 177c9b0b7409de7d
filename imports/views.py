"""The import pages (owners and managers): upload and the list of imports, a job's progress and preview, confirm,
and the templates to download."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from imports.downloads import CONTENT_TYPES, template_file
from imports.forms import ImportUploadForm
from imports.models import ImportJob
from imports.selectors import import_job_list, import_row_list
from imports.services import import_confirm, import_job_create
from taqsit.forms import form_errors_add
from taqsit.models import Language
from taqsit.permissions import Action
from taqsit.views import is_htmx, staff_page

ROWS_PER_PAGE = 50


@staff_page(Action.DATA_IMPORT)
def import_list(request):
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = import_job_create(
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    language=form.cleaned_data["language"],
                )
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                return redirect("imports:import-detail", pk=job.pk)
    else:
        form = ImportUploadForm(initial={"language": get_language() or request.user.merchant.language})
    page = Paginator(import_job_list(merchant=request.user.merchant), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/import_list.html",
        {
            "form": form,
            "page": page,
            "kinds": ImportJob.Kind.choices,
            "languages": Language.choices,
            "formats": ImportJob.Format.values,
        },
    )


def _job(request, pk) -> ImportJob:
    return get_object_or_404(import_job_list(merchant=request.user.merchant), pk=pk)


@staff_page(Action.DATA_IMPORT)
def import_detail(request, pk):
    job = _job(request, pk)
    if is_htmx(request):
        response = render(request, "imports/_progress.html", {"job": job})
        if not job.is_working:
            response["HX-Refresh"] = "true"  # done: the whole page shows the preview or the result
        return response
    problems_only = request.GET.get("show") == "problems"
    rows = import_row_list(job=job, problems_only=problems_only)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/import_detail.html",
        {"job": job, "page": page, "problems_only": problems_only, "query": "show=problems" if problems_only else ""},
    )


@require_POST
@staff_page(Action.DATA_IMPORT)
def import_confirm_view(request, pk):
    job = _job(request, pk)
    try:
        import_confirm(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Import confirmed: the rows are being imported."))
    return redirect("imports:import-detail", pk=job.pk)


@staff_page(Action.DATA_IMPORT)
def import_template(request, kind: str, file_format: str, language: str):
    if (
        kind not in ImportJob.Kind.values
        or file_format not in ImportJob.Format.values
        or language not in Language.values
    ):
        raise Http404
    name, content = template_file(kind=kind, file_format=file_format, language=language)
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
