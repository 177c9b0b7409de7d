"""Merchants and their staff: registration, staff accounts, and the collection policy."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import phonenumbers
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.models import Merchant, Role, User
from taqsit.money import MONEY_MAX, currency_codes, decimal_places_message, is_exact, too_large_message
from taqsit.permissions import Action, permission_require

logger = logging.getLogger(__name__)

POLICY_FIELDS = (
    "reminder_days_before",
    "grace_days",
    "late_fee_method",
    "late_fee_amount",
    "late_fee_percent",
    "late_fee_cap",
    "default_after_days",
    "requires_approval",
    # Issue 15, guarantors: the amount financed above which a plan needs one; copying them on late reminders.
    "guarantor_required_above",
    "guarantor_copy_after_days",
    "portal_enabled",
    "portal_self_registration",
    "portal_transfer_reports",
    # The contract (issue 15): the merchant's own clauses, one text per language.
    "contract_clauses",
)
# Issue 15, murabaha terms and early settlement: part of the policy.
SALE_TERMS_FIELDS = ("sale_terms", "late_fee_booking", "early_settlement_rebate")
POLICY_FIELDS += SALE_TERMS_FIELDS
PROFILE_FIELDS = ("name", "currency", "timezone", "language", "country")
USER_FIELDS = ("email", "role", "first_name", "last_name", "is_active", "language")

# What only a platform admin changes on a user (in the admin).
PLATFORM_USER_FIELDS = ("username", "is_staff", "is_superuser", "last_login", "date_joined")

ModelT = TypeVar("ModelT", bound=models.Model)


def model_save(
    *,
    instance: ModelT,
    validate: Callable[[ModelT], dict[str, list[str]]] | None = None,
    exclude: Iterable[str] = (),
    constraints: bool = False,
    conflict: Callable[[ModelT], Any] | None = None,
) -> ModelT:
    """Check the instance (``model_validate``) and save it; a unique clash lost to a concurrent twin is
    ``conflict(instance)``'s ValidationError."""
    model_validate(instance=instance, validate=validate, exclude=exclude, constraints=constraints)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        if conflict is None:
            raise
        raise ValidationError(conflict(instance)) from exc
    return instance


def model_validate(
    *,
    instance: ModelT,
    validate: Callable[[ModelT], dict[str, list[str]]] | None = None,
    exclude: Iterable[str] = (),
    constraints: bool = False,
) -> ModelT:
    """The service's own rules (``validate`` returns field errors, or raises to stop there), then the model's,
    all named on their fields; reads only (the admin's forms check with it before saving through the service)."""
    errors = dict(validate(instance)) if validate is not None else {}
    try:
        # A field the service already refused is not checked twice: one message per problem.
        instance.full_clean(exclude=[*exclude, *errors], validate_constraints=constraints)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return instance


def model_update(
    *,
    instance: ModelT,
    fields: Iterable[str],
    data: dict[str, Any],
    validate: Callable[[ModelT], dict[str, list[str]]] | None = None,
    exclude: Iterable[str] = (),
    constraints: bool = False,
    conflict: Callable[[ModelT], Any] | None = None,
) -> ModelT:
    """Set the editable ``fields`` of a locked ``instance`` from ``data`` and save it through ``model_save``;
    any other key is refused by name."""
    fields_refuse(data=data, fields=fields)
    for name, value in data.items():
        setattr(instance, name, value)
    return model_save(instance=instance, validate=validate, exclude=exclude, constraints=constraints, conflict=conflict)


def fields_refuse(*, data: dict[str, Any], fields: Iterable[str]) -> None:
    """A key a service does not edit is refused by name rather than silently ignored."""
    unknown = set(data) - set(fields)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), _("Unknown field.")))


@audit.action("merchant.register")
@transaction.atomic
def merchant_register(
    *,
    merchant_name: str,
    username: str,
    email: str,
    password: str,
    currency: str = "USD",
    timezone: str = "UTC",
    language: str = "en",
    country: str = "US",
) -> User:
    """Create a merchant and its owner in one transaction; returns the owner."""
    merchant = _merchant_save(
        Merchant(
            name=(merchant_name or "").strip(),
            currency=currency,
            timezone=timezone,
            language=language,
            country=country,
        )
    )
    owner = _user_build(merchant=merchant, username=username, email=email, password=password, role=Role.OWNER)
    return owner


def _merchant_save(merchant: Merchant) -> Merchant:
    merchant_policy_validate(merchant)
    merchant.full_clean()
    merchant.save()
    return merchant


@audit.action("merchant.create")
@transaction.atomic
def merchant_create(*, actor: User, **fields: Any) -> Merchant:
    """A platform admin creates a merchant without an owner yet (owners register through the API or are added
    in the admin); the same checks as registration."""
    if not actor.is_superuser:
        raise PermissionDenied(_("Only a platform admin creates a merchant this way."))
    unknown = set(fields) - {"is_active", *POLICY_FIELDS, *PROFILE_FIELDS}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), _("This field cannot be changed.")))
    return _merchant_save(Merchant(**fields))


def user_identity_errors(*, user: User) -> dict[str, str]:
    """A username is unique whatever its capitals; an e-mail unique among the merchant's staff (``OwnerB`` beside
    ``ownerb`` would log in as each other, and a password reset would go to both)."""
    errors: dict[str, str] = {}
    others = User.objects.exclude(pk=user.pk)
    if user.username and others.filter(username__iexact=user.username).exists():
        errors["username"] = _("A user with that username already exists.")
    if (
        user.email
        and user.merchant_id
        and others.filter(merchant_id=user.merchant_id, email__iexact=user.email).exists()
    ):
        errors["email"] = _("Another member of staff of this merchant has this e-mail address.")
    return errors


def _user_check(user: User, *, password: str | None) -> dict[str, list[str]]:
    """Name clashes reported on their field (the case-insensitive constraints would not name one), and the
    password's strength."""
    errors = {name: [message] for name, message in user_identity_errors(user=user).items()}
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    return errors


def _user_conflict(user: User) -> dict[str, str] | str:
    # A concurrent twin got there first: the same checks now name the clash.
    return user_identity_errors(user=user) or _(
        "Someone saved the same username or e-mail at the same moment: try again."
    )


def _last_owner_check(user: User) -> None:
    """A merchant keeps at least one active owner: refused on its own, before anything else."""
    if user.merchant_id and (user.role != Role.OWNER or not user.is_active):
        owners_left = (
            User.objects.filter(merchant_id=user.merchant_id, role=Role.OWNER, is_active=True)
            .exclude(pk=user.pk)
            .exists()
        )
        if not owners_left:
            raise ValidationError({"role": _("A merchant needs at least one active owner.")})


def user_validate(*, user: User, password: str | None = None) -> None:
    """What ``user_create``/``user_update`` refuse, reading only: a merchant keeps at least one active owner
    (checked first, on its own), then a name clash, the password's strength and the model's rules, each on its
    field."""
    _last_owner_check(user)
    model_validate(instance=user, validate=lambda u: _user_check(u, password=password), exclude=["password"])


def _user_build(
    *, merchant: Merchant, username: str, email: str, password: str | None, role: str, **extra: Any
) -> User:
    user = User(merchant=merchant, username=(username or "").strip(), email=email, role=role, **extra)
    if password is None:
        # The admin's "password-based authentication: disabled": the user signs in once one is set.
        user.set_unusable_password()
    else:
        user.set_password(password)
    return model_save(
        instance=user,
        validate=lambda u: _user_check(u, password=password),
        exclude=["password"],
        conflict=_user_conflict,
    )


@audit.action("user.create")
@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    email: str,
    password: str | None,
    role: str,
    first_name: str = "",
    last_name: str = "",
    is_active: bool = True,
    merchant: Merchant | None = None,
) -> User:
    """The owner adds a member of staff to their own merchant (a platform admin names the merchant)."""
    permission_require(actor, Action.STAFF_MANAGE)
    merchant = merchant if actor.is_superuser and merchant is not None else actor.merchant
    if merchant is None:
        raise ValidationError({"merchant": _("Platform admins add staff from the merchant's admin page.")})
    return _user_build(
        merchant=merchant,
        username=username,
        email=email,
        password=password,
        role=role,
        first_name=first_name,
        last_name=last_name,
        is_active=is_active,
    )


@audit.action("user.update")
@transaction.atomic
def user_password_set(*, actor: User, user: User, password: str | None) -> User:
    """Set a member of staff's password (checked for strength), or with None turn password sign-in off (the
    admin's "password-based authentication: disabled"); either way their API tokens stop working at once."""
    permission_require(actor, Action.STAFF_MANAGE)
    if not actor.is_superuser and user.merchant_id != actor.merchant_id:
        raise User.DoesNotExist
    user = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": list(exc.messages)}) from exc
        user.set_password(password)
    user.save(update_fields=["password"])
    return user


@audit.action("user.update")
@transaction.atomic
def user_update(*, actor: User, user: User, **fields: Any) -> User:
    """Change a member of staff's role, names, e-mail, active flag or password; the last owner stays an owner."""
    permission_require(actor, Action.STAFF_MANAGE)
    if not actor.is_superuser and user.merchant_id != actor.merchant_id:
        raise User.DoesNotExist
    password = fields.pop("password", None)

    def check(candidate: User) -> dict[str, list[str]]:
        _last_owner_check(candidate)
        errors = _user_check(candidate, password=password or None)
        if password and not errors:
            candidate.set_password(password)
        return errors

    return model_update(
        instance=User.objects.select_for_update(of=("self",)).get(pk=user.pk),
        fields=USER_FIELDS + PLATFORM_USER_FIELDS if actor.is_superuser else USER_FIELDS,
        data=fields,
        validate=check,
        exclude=["password"],
        conflict=_user_conflict,
    )


@audit.action("merchant.update")
@transaction.atomic
def merchant_update(*, actor: User, merchant: Merchant, **fields: Any) -> Merchant:
    """The owner changes the merchant's profile or collection policy; the currency is fixed once plans exist."""
    permission_require(actor, Action.STAFF_MANAGE)
    if not actor.is_superuser and merchant.pk != actor.merchant_id:
        raise Merchant.DoesNotExist
    merchant = Merchant.objects.select_for_update(of=("self",)).get(pk=merchant.pk)
    if "currency" in fields and fields["currency"] != merchant.currency and merchant.last_plan_number > 0:
        raise ValidationError({"currency": _("The currency cannot change once the merchant has plans.")})
    merchant = model_update(
        instance=merchant,
        fields=POLICY_FIELDS + PROFILE_FIELDS,
        data=fields,
        # The policy's errors stop before the model's constraints would repeat them without a field.
        validate=_merchant_policy_check,
        constraints=True,
    )
    # Grace days and the time zone move the overdue line: the statistics are recomputed.
    merchant_stats_invalidate(merchant.pk)
    return merchant


def _merchant_policy_check(merchant: Merchant) -> dict[str, list[str]]:
    merchant_policy_validate(merchant)
    return {}


def merchant_policy_validate(merchant: Merchant) -> None:
    """The late-fee rule needs its amount or percent; each problem is reported on its own field."""
    errors: dict[str, str] = {}
    method = merchant.late_fee_method
    if method == Merchant.LateFeeMethod.FIXED and not (merchant.late_fee_amount and merchant.late_fee_amount > 0):
        errors["late_fee_amount"] = _("A fixed late fee needs an amount greater than zero.")
    if method == Merchant.LateFeeMethod.PERCENT and not (merchant.late_fee_percent and merchant.late_fee_percent > 0):
        errors["late_fee_percent"] = _("A percent late fee needs a percent greater than zero.")
    if merchant.late_fee_cap is not None and merchant.late_fee_cap <= 0:
        errors["late_fee_cap"] = _("The cap must be greater than zero, or left empty for no cap.")
    if merchant.late_fee_amount is not None and merchant.late_fee_amount < 0:
        errors["late_fee_amount"] = _("The late fee cannot be negative.")
    if merchant.guarantor_required_above is not None and merchant.guarantor_required_above < 0:
        errors["guarantor_required_above"] = _("The amount cannot be negative; leave it empty to never require one.")
    for name in ("late_fee_amount", "late_fee_cap", "guarantor_required_above"):
        value = getattr(merchant, name)
        if name in errors or value is None or merchant.currency not in currency_codes():
            continue
        if not is_exact(value, merchant.currency):
            errors[name] = decimal_places_message(value, merchant.currency)
        elif value > MONEY_MAX:
            errors[name] = too_large_message(value)
    errors.update(_sale_terms_errors(merchant))
    clauses_error = contract_clauses_error(merchant.contract_clauses)
    if clauses_error:
        errors["contract_clauses"] = clauses_error
    if merchant.country not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = _("%(country)s is not an ISO 3166 country code (for example US, SA, KW).") % {
            "country": repr(merchant.country)
        }
    if errors:
        raise ValidationError(errors)


def _sale_terms_errors(merchant: Merchant) -> dict[str, str]:
    """Murabaha terms: a late fee is none, a fixed fee (its actual cost) or a fee collected for charity, never a
    percent booked as income; a discretionary rebate (ibra') exists only under murabaha terms."""
    errors: dict[str, str] = {}
    murabaha = merchant.sale_terms == Merchant.SaleTerms.MURABAHA
    if (
        murabaha
        and merchant.late_fee_method == Merchant.LateFeeMethod.PERCENT
        and merchant.late_fee_booking != Merchant.LateFeeBooking.CHARITY
    ):
        errors["late_fee_method"] = _(
            "Under murabaha terms a late fee is none, a fixed fee (its actual cost), or collected for charity: "
            "a percent late fee must be booked for charity."
        )
    if not murabaha and merchant.early_settlement_rebate == Merchant.SettlementRebate.DISCRETIONARY:
        errors["early_settlement_rebate"] = _("A discretionary rebate (ibra') is offered under murabaha terms only.")
    return errors


CONTRACT_CLAUSES_MAX_LENGTH = 5000


def contract_clauses_error(clauses: Any) -> str | None:
    """The merchant's own contract clauses: an object of language code to text (en, ar, es), each at most
    ``CONTRACT_CLAUSES_MAX_LENGTH`` characters; None when they are fine."""
    if not isinstance(clauses, dict):
        return _('Give the clauses as an object of language code to text, such as {"en": "..."}.')
    languages = dict(settings.LANGUAGES)
    for language, text in clauses.items():
        if language not in languages:
            return _("%(language)s is not a language of the contracts (%(languages)s).") % {
                "language": repr(language),
                "languages": ", ".join(languages),
            }
        if not isinstance(text, str):
            return _("The clauses in %(language)s must be a text.") % {"language": language}
        if len(text) > CONTRACT_CLAUSES_MAX_LENGTH:
            return _("The clauses in %(language)s are longer than %(limit)s characters.") % {
                "language": language,
                "limit": CONTRACT_CLAUSES_MAX_LENGTH,
            }
    return None


def password_reset_mail_allow(*, email: str) -> bool:
    """Count a password-reset request for ``email``; True while the address has had fewer than
    ``PASSWORD_RESET_MAILS_PER_HOUR`` this hour, so nobody can flood a mailbox (or our mail quota) from the page."""
    # Hashed: an address may hold characters a cache key cannot, and the cache need not hold addresses.
    key = "password-reset:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()
    try:
        cache.add(key, 0, timeout=3600)
        count = cache.incr(key)
    except ValueError:  # the hour ran out between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    except Exception as exc:  # whatever the cache backend raises: a limit against abuse, not a business rule
        logger.warning("Password-reset limit not applied, the cache is unavailable: %s: %s", type(exc).__name__, exc)
        return True
    if count > settings.PASSWORD_RESET_MAILS_PER_HOUR:
        logger.warning("Password-reset mail not sent: the hourly limit of the address is reached")
        return False
    return True
