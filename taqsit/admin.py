"""The platform admins' back office, and the pieces every app's admin shares.

The admin is for platform admins (active superusers) only: merchant staff work through the pages and the API,
which scope every row to their merchant. Writes go through the services, money moves only through actions that
call the ledger and lifecycle services, and what moved money is read-only here.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import model_ngettext
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from taqsit.models import Merchant, User
from taqsit.money_format import money_coded
from taqsit.services import (
    PLATFORM_USER_FIELDS,
    POLICY_FIELDS,
    PROFILE_FIELDS,
    merchant_create,
    merchant_policy_validate,
    merchant_update,
    user_create,
    user_identity_errors,
    user_password_set,
    user_update,
    user_validate,
)

# What the user admin's change form saves through ``user_update`` (groups and permissions follow as usual).
USER_ADMIN_FIELDS = {"email", "role", "first_name", "last_name", "is_active", "language", *PLATFORM_USER_FIELDS}


def is_platform_admin(user: Any) -> bool:
    """Platform admins are active superusers; they belong to no merchant and see every merchant's rows."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


class PlatformAdminMixin:
    """Every permission of a ModelAdmin or inline requires a platform admin, on top of what the class allows."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any, **kwargs: Any) -> bool:
        return is_platform_admin(request.user) and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user) and super().has_delete_permission(request, obj)


class PlatformModelAdmin(PlatformAdminMixin, admin.ModelAdmin):
    list_per_page = 50


class LedgerModelAdmin(PlatformModelAdmin):
    """History that must not change: viewable, never added, changed or deleted here (money moves by actions)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyTabularInline(PlatformAdminMixin, admin.TabularInline):
    """Rows shown on their parent's page for reading; they are written by the services only."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Tenancy -------------------------------------------------------------------------------------------------


class MerchantFilter(admin.SimpleListFilter):
    """Rows of one merchant; only platform admins get choices (the admin is theirs alone anyway)."""

    title = _("merchant")
    parameter_name = "merchant"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        if not is_platform_admin(request.user):
            return []
        return [(str(pk), name) for pk, name in Merchant.objects.order_by("name", "pk").values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if not value:
            return queryset
        if not is_platform_admin(request.user):
            return queryset.none()
        try:
            merchant_id = uuid.UUID(value)
        except ValueError:
            return queryset.none()
        return queryset.filter(merchant_id=merchant_id)


# Money ---------------------------------------------------------------------------------------------------


def merchant_currency(obj: Any) -> str:
    return obj.merchant.currency


def money_display(
    field: str,
    description: Any,
    *,
    currency_of: Callable[[Any], str] = merchant_currency,
    ordering: str | None = "",
) -> Callable[[Any, Any], str | None]:
    """A ModelAdmin/inline method showing ``obj.<field>`` rounded to the merchant's currency.

    Use it as a class attribute and name it in ``list_display`` or ``readonly_fields``; ``ordering`` defaults to
    the field itself (pass None for a property that cannot be sorted on).
    """

    @admin.display(description=description, ordering=field if ordering == "" else ordering)
    def display(self: Any, obj: Any) -> str | None:
        return money_coded(getattr(obj, field), currency_of(obj))

    display.__name__ = f"{field}_display"
    return display


# Services from the admin ---------------------------------------------------------------------------------


def error_text(exc: Exception) -> str:
    """What a service refused, in the words it used."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


def service_action_run(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: models.QuerySet,
    *,
    service: Callable[..., Any],
    target: str,
    done: str,
    with_reason: bool = False,
    describe: Callable[[Any], str] = str,
) -> None:
    """Call ``service(actor=request.user, <target>=obj)`` for each selected row, each in its own transaction.

    One error message per row the service refused (in its own words), one success message with the count.
    """
    reason = (request.POST.get("reason") or "").strip()
    succeeded = 0
    for obj in queryset:
        kwargs: dict[str, Any] = {"actor": request.user, target: obj}
        if with_reason:
            kwargs["reason"] = reason
        try:
            service(**kwargs)
        except (ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
            modeladmin.message_user(request, f"{describe(obj)}: {error_text(exc)}", level=messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(
            request,
            _("%(verb)s %(count)d %(items)s.")
            % {"verb": done, "count": succeeded, "items": model_ngettext(modeladmin.opts, succeeded)},
            level=messages.SUCCESS,
        )


class ReasonActionForm(helpers.ActionForm):
    """The changelist's action bar with a reason box, for actions whose service keeps a reason."""

    reason = forms.CharField(
        label=_("Reason:"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"size": 40, "placeholder": _("needed to reject, cancel, refund or void")}),
    )


def validation_errors_add(form: forms.BaseForm, validate: Any, **candidate: Any) -> bool:
    """Run a service's pure ``<thing>_validate(**candidate)`` from an admin form's ``clean()`` and put what it
    refuses on the fields it names (the rest above the form), so the admin checks exactly what the service will.
    A field that already failed its own validation keeps only that error. True when the service found nothing."""
    try:
        validate(**candidate)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            form.add_error(None, exc.messages)
            return False
        for field, errors in exc.error_dict.items():
            name = field if field in form.fields else None
            if name is not None and name in form.errors:
                continue
            form.add_error(name, [message for error in errors for message in error.messages])
        return False
    return True


_SERVICE_FAILED = "_taqsit_admin_service_failed"


class ServiceSaveMixin:
    """``save_model`` calls a service instead of ``obj.save()``.

    The form has already checked what the service checks, so a refusal here is a race (another clerk took the
    phone a moment ago): it becomes an error message, nothing is saved, nothing logged, and the admin returns to
    the form instead of announcing success.
    """

    def service_save(self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool) -> Any:
        """Each admin using the mixin says which service saves its model (customers: customer_create/update)."""
        raise NotImplementedError(f"{type(self).__name__} must define service_save().")

    def save_model(self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool) -> None:
        try:
            saved = self.service_save(request, obj, form, change)
        except (ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
            setattr(request, _SERVICE_FAILED, True)
            self.message_user(request, error_text(exc), level=messages.ERROR)
            return
        # The admin goes on with ``obj`` (its log entry, its URL): give it what the service saved.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        if not getattr(request, _SERVICE_FAILED, False):
            super().save_related(request, form, formsets, change)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if not getattr(request, _SERVICE_FAILED, False):
            return super().log_addition(request, obj, message)
        return None

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if not getattr(request, _SERVICE_FAILED, False):
            return super().log_change(request, obj, message)
        return None

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        if getattr(request, _SERVICE_FAILED, False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any) -> Any:
        if getattr(request, _SERVICE_FAILED, False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)


# Merchants -----------------------------------------------------------------------------------------------


class MerchantAdminForm(forms.ModelForm):
    class Meta:
        model = Merchant
        fields = ("is_active", *PROFILE_FIELDS, *POLICY_FIELDS)

    def clean_contract_clauses(self) -> dict:
        # Left empty: no clauses of the merchant's own, not JSON null.
        return self.cleaned_data.get("contract_clauses") or {}

    def _post_clean(self) -> None:
        super()._post_clean()
        # The late-fee rule's own checks, reported on the fields they concern.
        try:
            merchant_policy_validate(self.instance)
        except ValidationError as exc:
            self._update_errors(exc)


@admin.register(Merchant)
class MerchantAdmin(ServiceSaveMixin, PlatformModelAdmin):
    form = MerchantAdminForm
    list_display = ("name", "currency", "country", "timezone", "language", "requires_approval", "is_active")
    list_filter = ("is_active", "currency", "country", "language", "late_fee_method", "requires_approval")
    search_fields = ("name",)
    readonly_fields = ("last_plan_number", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "is_active")}),
        (_("Profile"), {"fields": ("currency", "timezone", "language", "country")}),
        (
            _("Collection policy"),
            {"fields": ("reminder_days_before", "grace_days", "default_after_days", "requires_approval")},
        ),
        # Issue 15: guarantors.
        (_("Guarantors"), {"fields": ("guarantor_required_above", "guarantor_copy_after_days")}),
        (_("Late fees"), {"fields": ("late_fee_method", "late_fee_amount", "late_fee_percent", "late_fee_cap")}),
        # Issue 15: murabaha terms and early settlement.
        (
            _("Sale terms and early settlement"),
            {"fields": ("sale_terms", "late_fee_booking", "early_settlement_rebate")},
        ),
        # The contract (issue 15).
        (pgettext_lazy("contract", "Contract"), {"fields": ("contract_clauses",)}),
        (_("Record"), {"fields": ("last_plan_number", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Merchant | None = None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.last_plan_number > 0:
            # Amounts already recorded are in this currency.
            readonly += ("currency",)
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj: Merchant | None = None) -> bool:
        # A merchant is deactivated, never deleted: its rows are the history of its money.
        return False

    def service_save(self, request: HttpRequest, obj: Merchant, form: forms.ModelForm, change: bool) -> Merchant:
        if not change:
            # A merchant without an owner yet (owners register through the API or are added below it).
            fields = {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
            return merchant_create(actor=request.user, **fields)
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in POLICY_FIELDS or name in PROFILE_FIELDS
        }
        merchant = merchant_update(actor=request.user, merchant=obj, **fields) if fields else obj
        if "is_active" in form.changed_data:
            merchant.is_active = form.cleaned_data["is_active"]
            merchant.save(update_fields=["is_active", "updated_at"])
        return merchant


# Users ---------------------------------------------------------------------------------------------------


def _identity_validate(*, user: User) -> None:
    # A new member of staff: only the name clashes (the last-owner rule is about changing one).
    errors = user_identity_errors(user=user)
    if errors:
        raise ValidationError(errors)


def _user_candidate(form: forms.ModelForm, cleaned: dict[str, Any], merchant: Merchant | None) -> User:
    """The user as the form would save it, for ``user_validate``: a username taken whatever its capitals or a
    colleague's e-mail is then an error on its field (the model's constraints would skip the check when the
    merchant is not on the form, read-only once the user exists)."""
    candidate = copy.copy(form.instance)
    for name, value in cleaned.items():
        field = next((f for f in User._meta.concrete_fields if f.name == name), None)
        if field is not None and name != "password":
            setattr(candidate, name, value)
    candidate.merchant = merchant
    return candidate


class StaffCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "merchant", "role", "email")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "merchant" in self.fields and not cleaned.get("merchant") and "merchant" not in self.errors:
            self.add_error(
                "merchant", gettext("A member of staff belongs to a merchant (platform admins: createsuperuser).")
            )
        validation_errors_add(self, _identity_validate, user=_user_candidate(self, cleaned, cleaned.get("merchant")))
        return cleaned


class StaffChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.instance
        merchant = cleaned.get("merchant", user.merchant) if "merchant" in self.fields else user.merchant
        is_superuser = cleaned.get("is_superuser", user.is_superuser)
        if not is_superuser and merchant is None:
            self.add_error(
                "is_superuser" if "is_superuser" in self.fields else None,
                gettext("Only a platform admin belongs to no merchant."),
            )
        validation_errors_add(self, user_validate, user=_user_candidate(self, cleaned, merchant))
        return cleaned


# The platform admin changing a password, for the change-password form's save (Django's view builds the form
# without the request); set per request, so concurrent requests never see each other's.
_password_actor: ContextVar[User | None] = ContextVar("password_actor", default=None)


class ServicePasswordChangeForm(AdminPasswordChangeForm):
    """The admin's change-password form, saved through ``user_password_set`` (which checks the password's
    strength; the changed password ends the user's API sessions)."""

    def save(self, commit: bool = True) -> User:
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        return user_password_set(actor=_password_actor.get(), user=self.user, password=password)


@admin.register(User)
class TaqsitUserAdmin(ServiceSaveMixin, PlatformAdminMixin, UserAdmin):
    form = StaffChangeForm
    add_form = StaffCreationForm
    change_password_form = ServicePasswordChangeForm
    list_display = ("username", "email", "first_name", "last_name", "merchant", "role", "is_active", "is_superuser")
    list_filter = (MerchantFilter, "role", "is_active", "is_superuser")
    list_select_related = ("merchant",)
    search_fields = ("username", "first_name", "last_name", "email", "merchant__name")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Merchant"), {"fields": ("merchant", "role")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        (_("Merchant"), {"fields": ("merchant", "role", "email")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Staff belong to one merchant; moving one would carry their history into another tenant.
            readonly += ("merchant",)
        return readonly

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""):
        token = _password_actor.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)

    def service_save(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> User:
        data = form.cleaned_data
        if not change:
            return user_create(
                actor=request.user,
                merchant=data.get("merchant"),
                username=data["username"],
                email=data.get("email", ""),
                password=data.get("password1") if data.get("set_usable_password", True) else None,
                role=data["role"],
            )
        fields = {name: data[name] for name in form.changed_data if name in USER_ADMIN_FIELDS}
        return user_update(actor=request.user, user=obj, **fields) if fields else obj
