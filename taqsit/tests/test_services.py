"""Tenancy services: registration, staff, merchant settings, the role table and tenant scoping."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from taqsit.models import Merchant, Role, User
from taqsit.permissions import ROLE_TABLE, Action, permission_require, user_can
from taqsit.services import merchant_policy_validate, merchant_register, merchant_update, user_create, user_update
from taqsit.tenancy import queryset_for_user
from taqsit.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Ledger-Lantern-4471"


# merchant_register ----------------------------------------------------------------------------------------


def test_merchant_register_creates_the_merchant_and_its_owner():
    owner = merchant_register(
        merchant_name="  Dar Al Ajhiza  ",
        username=" dar-owner ",
        email="owner@dar.example",
        password=STRONG_PASSWORD,
        currency="KWD",
        timezone="Asia/Kuwait",
        language="ar",
        country="KW",
    )

    owner.refresh_from_db()
    merchant = owner.merchant
    assert merchant.name == "Dar Al Ajhiza"
    assert (merchant.currency, merchant.timezone, merchant.language, merchant.country) == (
        "KWD",
        "Asia/Kuwait",
        "ar",
        "KW",
    )
    assert merchant.last_plan_number == 0
    assert owner.username == "dar-owner"
    assert owner.email == "owner@dar.example"
    assert owner.role == Role.OWNER
    assert owner.is_active is True
    assert owner.is_superuser is False
    assert owner.check_password(STRONG_PASSWORD)
    assert list(User.objects.filter(merchant=merchant)) == [owner]


def test_merchant_register_defaults():
    owner = merchant_register(merchant_name="Corner Shop", username="corner", email="", password=STRONG_PASSWORD)

    merchant = owner.merchant
    assert (merchant.currency, merchant.timezone, merchant.language, merchant.country) == ("USD", "UTC", "en", "US")
    assert merchant.requires_approval is False
    assert merchant.grace_days == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"merchant_name": "   "}, "name"),
        ({"currency": "ZZZ"}, "currency"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"language": "xx"}, "language"),
        ({"password": "12345"}, "password"),
        ({"password": "corner-owner"}, "password"),
        ({"username": ""}, "username"),
        ({"username": "bad name!"}, "username"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_merchant_register_refuses_bad_input_and_leaves_nothing(overrides, field, row_counts):
    before = row_counts()
    arguments = {
        "merchant_name": "Corner Shop",
        "username": "corner-owner",
        "email": "owner@corner.example",
        "password": STRONG_PASSWORD,
    }
    arguments.update(overrides)

    with pytest.raises(ValidationError) as excinfo:
        merchant_register(**arguments)

    assert field in excinfo.value.message_dict
    assert row_counts() == before


def test_merchant_register_refuses_a_taken_username_and_leaves_no_merchant(owner, row_counts):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        merchant_register(merchant_name="Copycat", username="owner", email="", password=STRONG_PASSWORD)

    assert excinfo.value.message_dict == {"username": ["A user with that username already exists."]}
    assert row_counts() == before
    assert not Merchant.objects.filter(name="Copycat").exists()


# user_create ----------------------------------------------------------------------------------------------


def test_owner_creates_staff_in_their_own_merchant(owner, merchant):
    user = user_create(
        actor=owner,
        username="new-clerk",
        email="clerk@shop.example",
        password=STRONG_PASSWORD,
        role=Role.CLERK,
        first_name="Layla",
        last_name="Nasser",
    )

    user.refresh_from_db()
    assert user.merchant == merchant
    assert user.role == Role.CLERK
    assert (user.first_name, user.last_name, user.email) == ("Layla", "Nasser", "clerk@shop.example")
    assert user.is_active is True
    assert user.check_password(STRONG_PASSWORD)


def test_owner_creates_an_inactive_manager(owner):
    user = user_create(
        actor=owner, username="later", email="", password=STRONG_PASSWORD, role=Role.MANAGER, is_active=False
    )

    user.refresh_from_db()
    assert user.role == Role.MANAGER
    assert user.is_active is False


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_only_the_owner_creates_staff(merchant, role, row_counts):
    actor = UserFactory(merchant=merchant, role=role)
    before = row_counts()

    with pytest.raises(PermissionDenied):
        user_create(actor=actor, username="sneaky", email="", password=STRONG_PASSWORD, role=Role.OWNER)

    assert row_counts() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": "boss"}, "role"),
        ({"password": "short"}, "password"),
        ({"username": "owner"}, "username"),
        ({"email": "nope"}, "email"),
    ],
)
def test_user_create_refuses_bad_input(owner, overrides, field, row_counts):
    before = row_counts()
    arguments = {"username": "new-clerk", "email": "", "password": STRONG_PASSWORD, "role": Role.CLERK}
    arguments.update(overrides)

    with pytest.raises(ValidationError) as excinfo:
        user_create(actor=owner, **arguments)

    assert field in excinfo.value.message_dict
    assert row_counts() == before


def test_a_platform_admin_adds_staff_from_the_admin_not_here(superuser, row_counts):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        user_create(actor=superuser, username="x-clerk", email="", password=STRONG_PASSWORD, role=Role.CLERK)

    assert excinfo.value.message_dict == {"merchant": ["Platform admins add staff from the merchant's admin page."]}
    assert row_counts() == before


# user_update ----------------------------------------------------------------------------------------------


def test_owner_promotes_a_clerk_and_renames_them(owner, clerk):
    user = user_update(actor=owner, user=clerk, role=Role.MANAGER, first_name="Omar", email="omar@shop.example")

    clerk.refresh_from_db()
    assert user.pk == clerk.pk
    assert clerk.role == Role.MANAGER
    assert clerk.first_name == "Omar"
    assert clerk.email == "omar@shop.example"


def test_owner_changes_a_password(owner, clerk):
    user_update(actor=owner, user=clerk, password=STRONG_PASSWORD)

    clerk.refresh_from_db()
    assert clerk.check_password(STRONG_PASSWORD)
    assert not clerk.check_password(TEST_PASSWORD)


def test_a_weak_password_is_refused_and_nothing_changes(owner, clerk):
    with pytest.raises(ValidationError) as excinfo:
        user_update(actor=owner, user=clerk, role=Role.VIEWER, password="123")

    assert list(excinfo.value.message_dict) == ["password"]
    clerk.refresh_from_db()
    assert clerk.role == Role.CLERK
    assert clerk.check_password(TEST_PASSWORD)


@pytest.mark.parametrize("change", [{"role": Role.MANAGER}, {"role": Role.VIEWER}, {"is_active": False}])
def test_the_last_owner_cannot_be_demoted_or_deactivated(owner, change):
    with pytest.raises(ValidationError) as excinfo:
        user_update(actor=owner, user=owner, **change)

    assert excinfo.value.message_dict == {"role": ["A merchant needs at least one active owner."]}
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    assert owner.is_active is True


def test_an_inactive_second_owner_does_not_count(owner, merchant):
    UserFactory(merchant=merchant, role=Role.OWNER, is_active=False)

    with pytest.raises(ValidationError) as excinfo:
        user_update(actor=owner, user=owner, role=Role.MANAGER)

    assert list(excinfo.value.message_dict) == ["role"]


def test_an_owner_steps_down_when_another_owner_remains(owner, merchant):
    UserFactory(merchant=merchant, role=Role.OWNER, username="co-owner")

    user_update(actor=owner, user=owner, role=Role.MANAGER)

    owner.refresh_from_db()
    assert owner.role == Role.MANAGER


def test_another_merchants_owner_does_not_count_as_an_owner_left(owner, other_owner):
    with pytest.raises(ValidationError) as excinfo:
        user_update(actor=owner, user=owner, role=Role.CLERK)

    assert list(excinfo.value.message_dict) == ["role"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "renamed"}, "username"),
        ({"merchant": None}, "merchant"),
        ({"is_superuser": True}, "is_superuser"),
        ({"role": "boss"}, "role"),
        ({"email": "nope"}, "email"),
    ],
)
def test_user_update_refuses_bad_fields(owner, clerk, change, field):
    with pytest.raises(ValidationError) as excinfo:
        user_update(actor=owner, user=clerk, **change)

    assert field in excinfo.value.message_dict
    clerk.refresh_from_db()
    assert clerk.username == "clerk"
    assert clerk.role == Role.CLERK
    assert clerk.is_superuser is False


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_only_the_owner_updates_staff(merchant, clerk, role):
    actor = UserFactory(merchant=merchant, role=role)

    with pytest.raises(PermissionDenied):
        user_update(actor=actor, user=clerk, role=Role.OWNER)

    clerk.refresh_from_db()
    assert clerk.role == Role.CLERK


def test_another_merchants_staff_does_not_exist_for_the_owner(owner, other_owner):
    with pytest.raises(User.DoesNotExist):
        user_update(actor=owner, user=other_owner, role=Role.VIEWER)

    other_owner.refresh_from_db()
    assert other_owner.role == Role.OWNER


# merchant_update and merchant_policy_validate ----------------------------------------------------------------


def test_owner_changes_the_profile_and_collection_policy(owner, merchant):
    result = merchant_update(
        actor=owner,
        merchant=merchant,
        name="Viejos Recuerdos II",
        timezone="America/Mexico_City",
        language="es",
        grace_days=5,
        reminder_days_before=2,
        late_fee_method=Merchant.LateFeeMethod.PERCENT,
        late_fee_percent=Decimal("2.5"),
        late_fee_cap=Decimal("25.00"),
        default_after_days=60,
        requires_approval=True,
    )

    merchant.refresh_from_db()
    assert result.pk == merchant.pk
    assert merchant.name == "Viejos Recuerdos II"
    assert merchant.timezone == "America/Mexico_City"
    assert merchant.language == "es"
    assert merchant.grace_days == 5
    assert merchant.reminder_days_before == 2
    assert merchant.late_fee_method == Merchant.LateFeeMethod.PERCENT
    assert merchant.late_fee_percent == Decimal("2.500")
    assert merchant.late_fee_cap == Decimal("25.00")
    assert merchant.default_after_days == 60
    assert merchant.requires_approval is True


def test_owner_sets_a_fixed_late_fee(owner, merchant):
    merchant_update(
        actor=owner, merchant=merchant, late_fee_method=Merchant.LateFeeMethod.FIXED, late_fee_amount=Decimal("7.50")
    )

    merchant.refresh_from_db()
    assert merchant.late_fee_method == Merchant.LateFeeMethod.FIXED
    assert merchant.late_fee_amount == Decimal("7.50")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"late_fee_method": "fixed"}, "late_fee_amount"),
        ({"late_fee_method": "fixed", "late_fee_amount": Decimal("0")}, "late_fee_amount"),
        ({"late_fee_method": "percent"}, "late_fee_percent"),
        ({"late_fee_method": "percent", "late_fee_percent": Decimal("0")}, "late_fee_percent"),
        ({"late_fee_percent": Decimal("100.5")}, "late_fee_percent"),
        ({"late_fee_cap": Decimal("0")}, "late_fee_cap"),
        ({"late_fee_amount": Decimal("-1.00")}, "late_fee_amount"),
        ({"late_fee_method": "weekly"}, "late_fee_method"),
        ({"grace_days": 91}, "grace_days"),
        ({"reminder_days_before": 61}, "reminder_days_before"),
        ({"default_after_days": 0}, "default_after_days"),
        ({"timezone": "Nowhere/Else"}, "timezone"),
        ({"currency": "ZZZ"}, "currency"),
        ({"name": ""}, "name"),
        ({"last_plan_number": 10}, "last_plan_number"),
        ({"is_active": False}, "is_active"),
    ],
)
def test_merchant_update_refuses_bad_input_and_changes_nothing(owner, merchant, change, field):
    with pytest.raises(ValidationError) as excinfo:
        merchant_update(actor=owner, merchant=merchant, **change)

    assert field in excinfo.value.message_dict
    merchant.refresh_from_db()
    assert merchant.name == "Viejos Recuerdos"
    assert merchant.late_fee_method == Merchant.LateFeeMethod.NONE
    assert merchant.late_fee_amount == Decimal("0")
    assert merchant.late_fee_cap is None
    assert merchant.grace_days == 0
    assert merchant.timezone == "UTC"
    assert merchant.currency == "USD"
    assert merchant.last_plan_number == 0
    assert merchant.is_active is True


def test_the_currency_changes_while_there_are_no_plans(owner, merchant):
    merchant_update(actor=owner, merchant=merchant, currency="EUR")

    merchant.refresh_from_db()
    assert merchant.currency == "EUR"


def test_the_currency_is_fixed_once_the_merchant_has_plans(owner, merchant, customer):
    plan_make(actor=owner, customer=customer)

    with pytest.raises(ValidationError) as excinfo:
        merchant_update(actor=owner, merchant=merchant, currency="EUR")

    assert excinfo.value.message_dict == {"currency": ["The currency cannot change once the merchant has plans."]}
    merchant.refresh_from_db()
    assert merchant.currency == "USD"
    # The same currency again is not a change.
    merchant_update(actor=owner, merchant=merchant, currency="USD", grace_days=3)
    merchant.refresh_from_db()
    assert merchant.grace_days == 3


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_only_the_owner_changes_merchant_settings(merchant, role):
    actor = UserFactory(merchant=merchant, role=role)

    with pytest.raises(PermissionDenied):
        merchant_update(actor=actor, merchant=merchant, grace_days=10)

    merchant.refresh_from_db()
    assert merchant.grace_days == 0


def test_another_merchant_does_not_exist_for_the_owner(owner, other_merchant):
    with pytest.raises(Merchant.DoesNotExist):
        merchant_update(actor=owner, merchant=other_merchant, grace_days=10)

    other_merchant.refresh_from_db()
    assert other_merchant.grace_days == 0


def test_a_platform_admin_changes_any_merchants_settings(superuser, other_merchant):
    merchant_update(actor=superuser, merchant=other_merchant, grace_days=4)

    other_merchant.refresh_from_db()
    assert other_merchant.grace_days == 4


def test_merchant_policy_validate_reports_every_problem_on_its_field():
    merchant = Merchant(
        name="Unsaved",
        late_fee_method=Merchant.LateFeeMethod.PERCENT,
        late_fee_percent=Decimal("0"),
        late_fee_cap=Decimal("-5"),
        late_fee_amount=Decimal("-1"),
    )

    with pytest.raises(ValidationError) as excinfo:
        merchant_policy_validate(merchant)

    assert excinfo.value.message_dict == {
        "late_fee_percent": ["A percent late fee needs a percent greater than zero."],
        "late_fee_cap": ["The cap must be greater than zero, or left empty for no cap."],
        "late_fee_amount": ["The late fee cannot be negative."],
    }


def test_merchant_policy_validate_fixed_fee_needs_an_amount():
    merchant = Merchant(name="Unsaved", late_fee_method=Merchant.LateFeeMethod.FIXED, late_fee_amount=Decimal("0"))

    with pytest.raises(ValidationError) as excinfo:
        merchant_policy_validate(merchant)

    assert excinfo.value.message_dict == {"late_fee_amount": ["A fixed late fee needs an amount greater than zero."]}


@pytest.mark.parametrize(
    "policy",
    [
        {"late_fee_method": Merchant.LateFeeMethod.NONE},
        {"late_fee_method": Merchant.LateFeeMethod.FIXED, "late_fee_amount": Decimal("5.00")},
        {"late_fee_method": Merchant.LateFeeMethod.PERCENT, "late_fee_percent": Decimal("1.5")},
        {
            "late_fee_method": Merchant.LateFeeMethod.PERCENT,
            "late_fee_percent": Decimal("10"),
            "late_fee_cap": Decimal("50.00"),
        },
    ],
)
def test_merchant_policy_validate_accepts_a_complete_rule(policy):
    assert merchant_policy_validate(Merchant(name="Unsaved", **policy)) is None


# The role table of DESIGN.md ------------------------------------------------------------------------------

# Written from DESIGN.md's table, not from ROLE_TABLE, so a change to either is caught.
OWNER, MANAGER, CLERK, VIEWER = Role.OWNER, Role.MANAGER, Role.CLERK, Role.VIEWER
DESIGN_TABLE = {
    Action.READ: {OWNER, MANAGER, CLERK, VIEWER},
    Action.CUSTOMER_WRITE: {OWNER, MANAGER, CLERK},
    Action.PRODUCT_WRITE: {OWNER, MANAGER, CLERK},
    Action.PLAN_CREATE: {OWNER, MANAGER, CLERK},
    Action.PLAN_DECIDE: {OWNER, MANAGER},
    Action.PAYMENT_RECORD: {OWNER, MANAGER, CLERK},
    Action.PAYMENT_REVERSE: {OWNER, MANAGER},
    Action.STAFF_MANAGE: {OWNER},
    Action.AUDIT_READ: {OWNER, MANAGER},
    Action.COLLECTION_ASSIGN: {OWNER, MANAGER},
    Action.COLLECTION_RECORD: {OWNER, MANAGER, CLERK},
    Action.DATA_IMPORT: {OWNER, MANAGER},
}


def test_the_design_table_covers_every_action():
    assert set(DESIGN_TABLE) == set(Action)
    assert set(ROLE_TABLE) == set(Action)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_user_can_follows_the_role_table(merchant, action, role):
    user = UserFactory(merchant=merchant, role=role)
    allowed = role in DESIGN_TABLE[action]

    assert user_can(user, action) is allowed
    if allowed:
        permission_require(user, action)
    else:
        with pytest.raises(PermissionDenied) as excinfo:
            permission_require(user, action)
        assert str(excinfo.value) == f"The {role.value} role may not perform {action.value}."


@pytest.mark.parametrize("action", list(Action))
def test_a_platform_admin_may_do_everything(superuser, action):
    assert user_can(superuser, action) is True
    permission_require(superuser, action)


@pytest.mark.parametrize("action", list(Action))
def test_an_inactive_user_may_do_nothing(merchant, action):
    inactive_owner = UserFactory(merchant=merchant, role=Role.OWNER, is_active=False)
    inactive_admin = UserFactory(merchant=None, is_superuser=True, is_staff=True, is_active=False)

    assert user_can(inactive_owner, action) is False
    assert user_can(inactive_admin, action) is False
    with pytest.raises(PermissionDenied):
        permission_require(inactive_owner, action)


@pytest.mark.parametrize("action", list(Action))
def test_anonymous_may_do_nothing(action):
    assert user_can(AnonymousUser(), action) is False
    assert user_can(None, action) is False
    with pytest.raises(PermissionDenied) as excinfo:
        permission_require(AnonymousUser(), action)
    assert str(excinfo.value) == f"The anonymous role may not perform {action.value}."


@pytest.mark.parametrize("action", list(Action))
def test_a_user_without_a_merchant_who_is_no_admin_may_do_nothing(action):
    # The database refuses such a user; an unsaved one must not slip through either.
    assert user_can(User(username="stray", role=Role.OWNER, merchant=None), action) is False


# queryset_for_user ----------------------------------------------------------------------------------------


def test_queryset_for_user_shows_only_the_users_merchant(merchant, other_merchant, owner, viewer, superuser):
    mine = [CustomerFactory(merchant=merchant, name=f"Mine {n}") for n in range(2)]
    theirs = CustomerFactory(merchant=other_merchant, name="Theirs")
    everyone = Customer.objects.all()

    assert set(queryset_for_user(everyone, owner)) == set(mine)
    assert set(queryset_for_user(everyone, viewer)) == set(mine)
    assert set(queryset_for_user(everyone, superuser)) == {*mine, theirs}


def test_queryset_for_user_shows_nothing_to_inactive_or_anonymous_users(merchant, customer):
    inactive = UserFactory(merchant=merchant, role=Role.OWNER, is_active=False)
    inactive_admin = UserFactory(merchant=None, is_superuser=True, is_staff=True, is_active=False)
    everyone = Customer.objects.all()
    assert everyone.count() == 1

    assert list(queryset_for_user(everyone, inactive)) == []
    assert list(queryset_for_user(everyone, inactive_admin)) == []
    assert list(queryset_for_user(everyone, AnonymousUser())) == []
    assert list(queryset_for_user(everyone, None)) == []
    assert list(queryset_for_user(everyone, User(username="stray", merchant=None))) == []


def test_queryset_for_user_keeps_the_querysets_own_filters(merchant, owner):
    CustomerFactory(merchant=merchant, name="Amina")
    CustomerFactory(merchant=merchant, name="Basel")

    scoped = queryset_for_user(Customer.objects.filter(name="Basel"), owner)

    assert [customer.name for customer in scoped] == ["Basel"]
