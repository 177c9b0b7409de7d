"""The signature, and the check docs/api.md gives integrators: run as written, it accepts what Taqsit signs."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from pathlib import Path

from django.conf import settings

from webhooks.signing import signature_header, verify

SECRET = "whsec_test"
BODY = b'{"id":"e1","type":"payment.posted"}'


def _documented_check():
    docs = (Path(settings.BASE_DIR) / "docs" / "api.md").read_text()
    section = docs[docs.index("## Webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/api.md", "exec"), namespace)  # noqa: S102 (our own documentation's snippet)
    return namespace["taqsit_signature_ok"]


def test_the_documented_check_accepts_a_taqsit_signature_and_refuses_a_wrong_one():
    check = _documented_check()
    header = signature_header(secret=SECRET, body=BODY)

    assert check(SECRET, BODY, header) is True
    assert check("whsec_other", BODY, header) is False
    assert check(SECRET, BODY.replace(b"e1", b"e2"), header) is False
    assert check(SECRET, BODY, signature_header(secret=SECRET, body=BODY, timestamp=int(time.time()) - 301)) is False
    assert check(SECRET, BODY, "v1=abc") is False


def test_the_signature_is_the_hmac_of_the_time_and_the_body():
    header = signature_header(secret=SECRET, body=BODY, timestamp=1767225600)

    assert header == "t=1767225600,v1=" + hmac.new(SECRET.encode(), b"1767225600." + BODY, hashlib.sha256).hexdigest()
    assert verify(secret=SECRET, body=BODY, header=header, now=1767225600) is True
    assert verify(secret=SECRET, body=BODY, header="t=nope,v1=00", now=1767225600) is False
