"""One-time codes: sent to a known phone or address only, answered the same either way, limited, locked after
five wrong codes, and good once."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from customers.models import Customer
from portal.models import PortalCode, PortalCodeFailure
from portal.services import portal_code_request, portal_code_verify

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _code(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def _request(merchant, destination, django_capture_on_commit_callbacks, purpose="login"):
    with django_capture_on_commit_callbacks(execute=True):
        portal_code_request(merchant=merchant, destination=destination, purpose=purpose)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_a_code_goes_by_sms_in_the_customers_language_and_logs_them_in(
    merchant, customer, sms_outbox, django_capture_on_commit_callbacks, clock
):
    Customer.objects.filter(pk=customer.pk).update(language="es")
    # A local number, read in the merchant's country.
    _request(merchant, "(415) 555-0123", django_capture_on_commit_callbacks)
    (sms,) = sms_outbox
    assert sms["to"] == "+14155550123"
    code = _code(sms["body"])
    assert sms["body"] == f"{code} es tu código para Viejos Recuerdos. Vale 10 minutos; no lo compartas con nadie."
    stored = PortalCode.objects.get()
    assert (stored.destination, stored.purpose, stored.used_at) == ("+14155550123", "login", None)
    assert stored.expires_at == START + timedelta(minutes=10)
    assert code not in stored.code_hash and len(stored.code_hash) == 64

    found = portal_code_verify(merchant=merchant, destination="+14155550123", code=code, purpose="login")
    assert found == customer
    # Once only.
    with pytest.raises(ValidationError):
        portal_code_verify(merchant=merchant, destination="+14155550123", code=code, purpose="login")


def test_a_code_goes_by_e_mail_to_an_address(merchant, customer, sms_outbox, django_capture_on_commit_callbacks):
    _request(merchant, "  Amina@Example.com ", django_capture_on_commit_callbacks)
    assert sms_outbox == []
    (message,) = mail.outbox
    assert message.to == ["amina@example.com"]
    assert message.subject == "Your code for Viejos Recuerdos"
    code = _code(message.body)
    assert (
        portal_code_verify(merchant=merchant, destination="amina@example.com", code=code, purpose="login") == customer
    )


def test_an_unknown_phone_gets_the_same_answer_and_nothing_is_sent(
    merchant, customer, sms_outbox, django_capture_on_commit_callbacks
):
    _request(merchant, "+14155550999", django_capture_on_commit_callbacks)
    assert sms_outbox == [] and mail.outbox == []
    # The same work: a code row (never sent).
    assert PortalCode.objects.filter(destination="+14155550999").count() == 1


def test_an_address_two_customers_share_opens_neither(
    merchant, customer, sms_outbox, django_capture_on_commit_callbacks
):
    Customer.objects.create(merchant=merchant, name="Twin", phone="+14155550124", email="amina@example.com")
    _request(merchant, "amina@example.com", django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_a_fourth_request_in_15_minutes_is_refused(
    merchant, customer, sms_outbox, django_capture_on_commit_callbacks, clock
):
    for minute in (0, 1, 2):
        clock.move_to(START + timedelta(minutes=minute))
        _request(merchant, "+14155550123", django_capture_on_commit_callbacks)
    clock.move_to(START + timedelta(minutes=3))
    with pytest.raises(ValidationError) as refused:
        _request(merchant, "+14155550123", django_capture_on_commit_callbacks)
    assert refused.value.messages == ["Too many codes were asked for: try again in 12 minutes."]
    assert len(sms_outbox) == 3
    # The same for a phone nobody has: the limit says nothing either.
    for _attempt in range(3):
        _request(merchant, "+14155550999", django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as refused:
        _request(merchant, "+14155550999", django_capture_on_commit_callbacks)
    assert refused.value.messages == ["Too many codes were asked for: try again in 15 minutes."]
    # 15 minutes after the first, one more.
    clock.move_to(START + timedelta(minutes=15, seconds=1))
    _request(merchant, "+14155550123", django_capture_on_commit_callbacks)
    assert len(sms_outbox) == 4


def test_five_wrong_codes_lock_the_phone_for_15_minutes(
    merchant, customer, sms_outbox, django_capture_on_commit_callbacks, clock
):
    _request(merchant, "+14155550123", django_capture_on_commit_callbacks)
    code = _code(sms_outbox[0]["body"])
    wrong = "000000" if code != "000000" else "111111"
    for attempt in range(5):
        clock.move_to(START + timedelta(minutes=attempt))
        with pytest.raises(ValidationError) as refused:
            portal_code_verify(merchant=merchant, destination="+14155550123", code=wrong, purpose="login")
        assert refused.value.message_dict == {
            "code": ["This code is not right, or it has expired: check it, or ask for a new one."]
        }
    assert PortalCodeFailure.objects.count() == 5
    # Locked at minute 4 for 15 minutes: the right code is refused too, and a guess while locked is not counted.
    clock.move_to(START + timedelta(minutes=5))
    with pytest.raises(ValidationError) as refused:
        portal_code_verify(merchant=merchant, destination="+14155550123", code=code, purpose="login")
    assert refused.value.message_dict == {"code": ["Too many wrong codes: try again in 14 minutes."]}
    assert PortalCodeFailure.objects.count() == 5
    clock.move_to(START + timedelta(minutes=18, seconds=30))
    with pytest.raises(ValidationError) as refused:
        portal_code_verify(merchant=merchant, destination="+14155550123", code=code, purpose="login")
    assert refused.value.message_dict == {"code": ["Too many wrong codes: try again in 1 minute."]}
    # Unlocked after; the code is still within... no: it expired at minute 10. A new one works.
    clock.move_to(START + timedelta(minutes=19, seconds=1))
    _request(merchant, "+14155550123", django_capture_on_commit_callbacks)
    fresh = _code(sms_outbox[-1]["body"])
    assert portal_code_verify(merchant=merchant, destination="+14155550123", code=fresh, purpose="login") == customer
    assert PortalCodeFailure.objects.count() == 0


def test_an_expired_code_is_refused(merchant, customer, sms_outbox, django_capture_on_commit_callbacks, clock):
    _request(merchant, "+14155550123", django_capture_on_commit_callbacks)
    code = _code(sms_outbox[0]["body"])
    clock.move_to(START + timedelta(minutes=10))
    with pytest.raises(ValidationError):
        portal_code_verify(merchant=merchant, destination="+14155550123", code=code, purpose="login")


def test_a_code_of_one_merchant_does_not_open_another(
    merchant, other_merchant, customer, sms_outbox, django_capture_on_commit_callbacks
):
    Customer.objects.create(merchant=other_merchant, name="Amina B", phone="+14155550123")
    _request(merchant, "+14155550123", django_capture_on_commit_callbacks)
    code = _code(sms_outbox[0]["body"])
    with pytest.raises(ValidationError):
        portal_code_verify(merchant=other_merchant, destination="+14155550123", code=code, purpose="login")
    assert portal_code_verify(merchant=merchant, destination="+14155550123", code=code, purpose="login") == customer


def test_a_bad_phone_is_refused_by_name(merchant):
    with pytest.raises(ValidationError) as refused:
        portal_code_request(merchant=merchant, destination="12", purpose="login")
    assert list(refused.value.message_dict) == ["phone"]


def test_no_code_while_the_portal_is_off(merchant, customer):
    merchant.portal_enabled = False
    merchant.save(update_fields=["portal_enabled"])
    with pytest.raises(ValidationError) as refused:
        portal_code_request(merchant=merchant, destination="+14155550123", purpose="login")
    assert refused.value.messages == ["This shop's customer portal is not open."]
    assert PortalCode.objects.count() == 0
