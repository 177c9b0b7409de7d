"""Core pages: log-in and password pages, staff management and merchant settings (the dashboard is payments').

Also what every page shares: ``StaffPageMixin`` (log-in required, the role table, the merchant) and
``staff_page`` for function views. Views parse, call a service or selector, and present.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import SimpleTemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _

from taqsit.forms import LoginForm, MerchantSettingsForm, StaffCreateForm, StaffUpdateForm, form_errors_add
from taqsit.models import User
from taqsit.permissions import Action, user_can
from taqsit.services import merchant_update, user_create, user_update
from taqsit.tenancy import queryset_for_user


def _access_check(request: HttpRequest, action: Action) -> HttpResponse | None:
    """A log-in page for strangers, the admin for platform admins (no merchant), 403 when the role says no."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if user.merchant_id is None:
        return redirect("admin:index")
    if not user_can(user, action):
        raise PermissionDenied(_("Your role does not allow this."))
    return None


def _in_merchant_time(request: HttpRequest, respond: Callable[[], HttpResponse]) -> HttpResponse:
    """``respond()`` with the merchant's time zone as Django's current one, so a staff page shows times (the
    dashboard's "figures as of", the history panels) where the shop is, as its dates already are. A template
    response is rendered here: it would otherwise render after the view returned, outside the time zone."""
    with timezone.override(request.user.merchant.tzinfo):
        response = respond()
        if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
            response.render()
    return response


class StaffPageMixin(LoginRequiredMixin):
    """A page of the merchant's staff: log-in required, then ``action`` from the role table (403 otherwise)."""

    action: Action = Action.READ

    def dispatch(self, request, *args, **kwargs):
        refusal = _access_check(request, self.action)
        if refusal is not None:
            return refusal
        self.merchant = request.user.merchant
        return _in_merchant_time(request, lambda: super(StaffPageMixin, self).dispatch(request, *args, **kwargs))


def staff_page(action: Action = Action.READ) -> Callable:
    """The function-view twin of ``StaffPageMixin``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            refusal = _access_check(request, action)
            if refusal is not None:
                return refusal
            return _in_merchant_time(request, lambda: view(request, *args, **kwargs))

        return wrapped

    return decorator


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request for a fragment (htmx restoring its history asks for the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, asked for by browsers whatever the page links: a permanent redirect to the static icon."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


# Log-in and passwords ---------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's log-in; the first time, the pages speak the user's (or else the merchant's) language."""

    redirect_authenticated_user = True
    authentication_form = LoginForm

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        language = user.language or (user.merchant.language if user.merchant_id else "")
        cookie = settings.LANGUAGE_COOKIE_NAME
        if language and check_for_language(language) and not self.request.COOKIES.get(cookie):
            response.set_cookie(cookie, language, samesite="Lax")
        return response


# Staff (owner only) -------------------------------------------------------------------------------------------


@staff_page(Action.STAFF_MANAGE)
def staff_list(request: HttpRequest) -> HttpResponse:
    staff = queryset_for_user(User.objects.all(), request.user).order_by("-is_active", "username")
    return render(request, "taqsit/staff_list.html", {"staff": staff})


@staff_page(Action.STAFF_MANAGE)
def staff_create(request: HttpRequest) -> HttpResponse:
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("%(name)s can now log in.") % {"name": user})
            return redirect("taqsit:staff-list")
    return render(request, "taqsit/staff_form.html", {"form": form, "member": None})


@staff_page(Action.STAFF_MANAGE)
def staff_update(request: HttpRequest, pk) -> HttpResponse:
    member = get_object_or_404(queryset_for_user(User.objects.all(), request.user), pk=pk)
    initial = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email,
        "role": member.role,
        "language": member.language,
        "is_active": member.is_active,
    }
    form = StaffUpdateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            member = user_update(actor=request.user, user=member, **form.changes())
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": member})
            return redirect("taqsit:staff-list")
    return render(request, "taqsit/staff_form.html", {"form": form, "member": member})


# Merchant settings (owner only) ------------------------------------------------------------------------------


@staff_page(Action.STAFF_MANAGE)
def merchant_settings(request: HttpRequest) -> HttpResponse:
    merchant = request.user.merchant
    form = MerchantSettingsForm(request.POST or None, instance=merchant)
    if request.method == "POST" and form.is_valid():
        try:
            merchant_update(actor=request.user, merchant=merchant, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The settings were saved."))
            return redirect(reverse("taqsit:merchant-settings"))
    return render(request, "taqsit/merchant_settings.html", {"form": form})
