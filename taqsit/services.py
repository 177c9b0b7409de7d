"""Merchants and their staff: registration, staff accounts, and the collection policy."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import phonenumbers
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
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
)
PROFILE_FIELDS = ("name", "currency", "timezone", "language", "country")
# What only a platform admin changes on a user (in the admin).
PLATFORM_USER_FIELDS = {"username", "is_staff", "is_superuser", "last_login", "date_joined"}


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


def _user_clean(user: User) -> None:
    """The model's rules, with a name clash reported on the field it concerns, not above the form."""
    errors: dict[str, list[str]] = {}
    try:
        # The case-insensitive constraints would only say so without naming a field: checked below instead.
        user.full_clean(exclude=["password"], validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for name, message in user_identity_errors(user=user).items():
        errors.setdefault(name, [message])
    if errors:
        raise ValidationError(errors)


def user_validate(*, user: User) -> None:
    """What ``user_update`` refuses, reading only: a merchant keeps at least one active owner (checked first, on
    its own), then the model's rules and a name clash, each on its field."""
    if user.merchant_id and (user.role != Role.OWNER or not user.is_active):
        owners_left = (
            User.objects.filter(merchant_id=user.merchant_id, role=Role.OWNER, is_active=True)
            .exclude(pk=user.pk)
            .exists()
        )
        if not owners_left:
            raise ValidationError({"role": _("A merchant needs at least one active owner.")})
    _user_clean(user)


def _user_build(
    *, merchant: Merchant, username: str, email: str, password: str | None, role: str, **extra: Any
) -> User:
    user = User(merchant=merchant, username=(username or "").strip(), email=email, role=role, **extra)
    errors: dict[str, list[str]] = {}
    try:
        _user_clean(user)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    if password is None:
        # The admin's "password-based authentication: disabled": the user signs in once one is set.
        user.set_unusable_password()
    else:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # A concurrent twin got there first: the same checks now name the clash.
        raise ValidationError(
            user_identity_errors(user=user)
            or _("Someone saved the same username or e-mail at the same moment: try again.")
        ) from exc
    return user


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
def user_update(*, actor: User, user: User, **fields: Any) -> User:
    """Change a member of staff's role, names, e-mail, active flag or password; the last owner stays an owner."""
    permission_require(actor, Action.STAFF_MANAGE)
    if not actor.is_superuser and user.merchant_id != actor.merchant_id:
        raise User.DoesNotExist
    password = fields.pop("password", None)
    allowed = {"email", "role", "first_name", "last_name", "is_active", "language"}
    if actor.is_superuser:
        allowed |= PLATFORM_USER_FIELDS
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), _("This field cannot be changed.")))
    user = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    for name, value in fields.items():
        setattr(user, name, value)
    user_validate(user=user)
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": list(exc.messages)}) from exc
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise ValidationError(
            user_identity_errors(user=user)
            or _("Someone saved the same username or e-mail at the same moment: try again.")
        ) from exc
    return user


@audit.action("merchant.update")
@transaction.atomic
def merchant_update(*, actor: User, merchant: Merchant, **fields: Any) -> Merchant:
    """The owner changes the merchant's profile or collection policy; the currency is fixed once plans exist."""
    permission_require(actor, Action.STAFF_MANAGE)
    if not actor.is_superuser and merchant.pk != actor.merchant_id:
        raise Merchant.DoesNotExist
    unknown = set(fields) - set(POLICY_FIELDS) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), _("This field cannot be changed.")))
    merchant = Merchant.objects.select_for_update(of=("self",)).get(pk=merchant.pk)
    if "currency" in fields and fields["currency"] != merchant.currency and merchant.last_plan_number > 0:
        raise ValidationError({"currency": _("The currency cannot change once the merchant has plans.")})
    for name, value in fields.items():
        setattr(merchant, name, value)
    merchant_policy_validate(merchant)
    merchant.full_clean()
    merchant.save()
    # Grace days and the time zone move the overdue line: the statistics are recomputed.
    merchant_stats_invalidate(merchant.pk)
    return merchant


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
    for name in ("late_fee_amount", "late_fee_cap"):
        value = getattr(merchant, name)
        if name in errors or value is None or merchant.currency not in currency_codes():
            continue
        if not is_exact(value, merchant.currency):
            errors[name] = decimal_places_message(value, merchant.currency)
        elif value > MONEY_MAX:
            errors[name] = too_large_message(value)
    if merchant.country not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = _("%(country)s is not an ISO 3166 country code (for example US, SA, KW).") % {
            "country": repr(merchant.country)
        }
    if errors:
        raise ValidationError(errors)


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
