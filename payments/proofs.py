"""Proofs of payment a customer uploads with a transfer report: where they are kept and how staff read them.

Private files: they live under ``MEDIA_ROOT/payment-proofs/<merchant id>/<random uuid>.<ext>`` and have no URL of
their own (nothing serves ``MEDIA_ROOT``). Staff of the merchant read one through the payment's proof view (page,
API or admin), which checks tenancy first and answers with ``proof_response``.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse

# What a proof may be, recognised by its content (magic bytes), and the extension it is stored under.
PROOF_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
}
PROOF_IMAGE_TYPES = frozenset(mime for mime in PROOF_TYPES if mime.startswith("image/"))


class ProofStorage(FileSystemStorage):
    """``MEDIA_ROOT`` (followed when the setting changes), readable by the application's user only, never a URL."""

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    def url(self, name: str | None) -> str:
        raise ValueError("Payment proofs have no public URL: serve them through the payment's proof view.")


_storage = ProofStorage()


def proof_storage() -> ProofStorage:
    """The proofs' storage (a callable, so the migration names this function, not a path)."""
    return _storage


def proof_upload_to(instance, filename: str) -> str:
    """``payment-proofs/<merchant id>/<uuid4>.<ext>``: nothing of the customer's file name, nothing guessable;
    the extension is the one the service chose from the file's content (``filename`` is ``proof.<ext>``)."""
    extension = PurePosixPath(filename).suffix.lower()
    return f"payment-proofs/{instance.merchant_id}/{uuid.uuid4()}{extension}"


def proof_response(proof) -> FileResponse:
    """The proof's bytes with its stored type: images inline (the payment page shows them), a PDF as a download;
    never sniffed, never run (a sandboxed, empty Content-Security-Policy)."""
    extension = PROOF_TYPES.get(proof.content_type, "bin")
    payment = proof.payment
    response = FileResponse(
        proof.file.open("rb"),
        content_type=proof.content_type,
        as_attachment=proof.content_type not in PROOF_IMAGE_TYPES,
        filename=f"proof-{payment.plan.reference}-{payment.payment_number}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
