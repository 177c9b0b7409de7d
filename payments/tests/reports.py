"""Helpers for the transfer-report tests: real file contents of each type a proof may be (and some it may not),
and a report made with sensible defaults. Plain functions, so the service, page and API tests share them."""

from __future__ import annotations

import struct
import zlib
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from payments.models import Payment
from payments.services import payment_report


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes() -> bytes:
    """A 1x1 white PNG (a browser draws it)."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels) + _png_chunk(b"IEND", b"")


PNG = png_bytes()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 24
TEXT = b"I paid, honestly. Reference TRF-1.\n"
# A Windows program's first bytes ("MZ", then the PE offset): what a renamed .exe starts with.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"\x80\x00\x00\x00" + b"\x00" * 64


def upload(content: bytes = PNG, name: str = "receipt.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def report(*, customer, plan, **overrides) -> Payment:
    """A transfer of 150.00 on 2026-02-28, reference TRF-2231, with a PNG proof, unless overridden."""
    values = {
        "amount": "150.00",
        "payment_date": date(2026, 2, 28),
        "payment_method": "bank_transfer",
        "reference": "TRF-2231",
        "proof": upload(),
    }
    values.update(overrides)
    return payment_report(customer=customer, plan=plan, **values)


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


AMOUNT = Decimal("150.00")
