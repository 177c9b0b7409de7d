"""Production headers (the suite runs with the production settings: DEBUG off): Content-Security-Policy with a
fresh nonce per response, HSTS on HTTPS, cookies for HTTPS only, and the pages free of inline code the policy
would refuse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from taqsit.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NONCE = re.compile(r"'nonce-[A-Za-z0-9+/]{22}==?'")
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_the_suite_runs_the_production_settings():
    assert settings.DEBUG is False


def test_pages_carry_the_content_security_policy(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    # A page that uses no nonce gets none: only our own files run.
    assert directives(response["Content-Security-Policy"]) == POLICY


def test_the_api_and_the_admin_carry_it_too(client, owner):
    client.force_login(owner)

    for path in ("/api/auth/me/", "/admin/login/"):
        assert "default-src 'self'" in client.get(path)["Content-Security-Policy"], path


def test_each_response_gets_its_own_nonce_and_inline_code_uses_it(client, owner):
    """Swagger UI's page has an inline script and style: both carry the response's nonce."""
    client.force_login(owner)

    first, second = client.get("/api/docs/"), client.get("/api/docs/")

    assert directives(NONCE.sub("'nonce-…'", first["Content-Security-Policy"])) == {
        **POLICY,
        "script-src": "'self' 'nonce-…'",
        "style-src": "'self' 'nonce-…'",
    }
    nonces = [
        directives(r["Content-Security-Policy"])["script-src"].split("'nonce-")[1].rstrip("'") for r in (first, second)
    ]
    assert nonces[0] != nonces[1]
    html = first.content.decode()
    assert html.count(f'nonce="{nonces[0]}"') == 2  # the <style> and the <script>
    # Swagger UI itself from our own static files (drf-spectacular-sidecar), no CDN.
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn." not in html


def test_templates_have_no_inline_code_without_a_nonce():
    """style="..." attributes and on*= handlers are refused by the policy; inline <script>/<style> need a nonce."""
    offenders = []
    for template in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for pattern in (
            r"\sstyle=",
            r"\son[a-z]+=",
            r"<style(?![^>]*nonce=)",
            r"<script(?![^>]*(?:src=|nonce=|type=\"application/json\"))",
        ):
            offenders += [
                f"{template.relative_to(PROJECT_ROOT)}: {match.group(0).strip()}"
                for match in re.finditer(pattern, text)
            ]

    assert offenders == []


def test_hsts_on_https(client):
    response = client.get("/accounts/login/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_cookies_are_for_https_only(client, owner):
    response = client.post("/accounts/login/", {"username": "owner", "password": TEST_PASSWORD}, secure=True)

    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    csrf = response.cookies[settings.CSRF_COOKIE_NAME]
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")
    assert (csrf["secure"], csrf["samesite"]) == (True, "Lax")
