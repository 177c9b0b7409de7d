"""Signing a plan's contract on screen at the counter (installments/contract.py renders it)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from installments.contract import contract_build, plan_guarantors
from installments.locks import plan_lock
from installments.models import ContractSignature, InstallmentPlan
from installments.services._common import _same_merchant
from taqsit import audit
from taqsit.error_codes import ErrorCode
from taqsit.models import User
from taqsit.permissions import Action, permission_require

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
Signer = ContractSignature.Signer


def _signer_name(plan: InstallmentPlan, signer: str, guarantor_key: str) -> str:
    if signer == Signer.CUSTOMER:
        return plan.customer.name
    guarantor = next((g for g in plan_guarantors(plan) if str(g.pk) == guarantor_key), None)
    if signer != Signer.GUARANTOR or guarantor is None:
        raise ValidationError({"signer": _("Choose the customer or one of the plan's guarantors.")})
    return guarantor.name


def signature_image_validate(image: bytes) -> None:
    """A PNG, not empty, at most ``CONTRACT_SIGNATURE_MAX_BYTES``: what the signature pad sends."""
    if not image.startswith(PNG_MAGIC) or len(image) <= len(PNG_MAGIC):
        raise ValidationError({"image": _("The signature must be a PNG image drawn on the pad.")})
    if len(image) > settings.CONTRACT_SIGNATURE_MAX_BYTES:
        raise ValidationError(
            {
                "image": _("The signature image is larger than %(limit)s KB.")
                % {"limit": settings.CONTRACT_SIGNATURE_MAX_BYTES // 1024}
            }
        )


@audit.action("contract.sign")
@transaction.atomic
def contract_sign(
    *,
    actor: User,
    plan: InstallmentPlan,
    signer: str,
    image: bytes,
    text_sha256: str,
    guarantor_key: str = "",
) -> ContractSignature:
    """Keep a signature drawn on screen: the PNG (private), the signer, the time and the SHA-256 of the contract's
    text the signer was shown (``text_sha256``). Refused when the contract's text has changed since it was shown,
    so a signature always covers the very text it was drawn under."""
    permission_require(actor, Action.PLAN_CREATE)
    _same_merchant(actor, plan)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    plan = InstallmentPlan.objects.select_related("customer", "merchant").get(pk=plan.pk)
    if plan.status not in (*InstallmentPlan.OPEN_STATUSES, InstallmentPlan.Status.PENDING):
        raise ValidationError(
            {
                "status": _("Plan %(plan)s is %(status)s: its contract is no longer signed.")
                % {"plan": plan.reference, "status": plan.get_status_display().lower()}
            }
        )
    guarantor_key = guarantor_key if signer == Signer.GUARANTOR else ""
    name = _signer_name(plan, signer, guarantor_key)
    signature_image_validate(image)
    contract = contract_build(plan=plan)
    if text_sha256 != contract.text_sha256:
        raise ValidationError(
            {
                "text_sha256": ValidationError(
                    _("The contract has changed since it was shown: read the new text and sign again."),
                    code=ErrorCode.INVALID_STATUS,
                )
            }
        )
    signature = ContractSignature(
        merchant_id=plan.merchant_id,
        plan=plan,
        signer=signer,
        guarantor_key=guarantor_key,
        signer_name=name,
        language=contract.language,
        text_sha256=contract.text_sha256,
        image_sha256=hashlib.sha256(image).hexdigest(),
        signed_at=timezone.now(),
        witnessed_by=actor,
    )
    signature.image.save("signature.png", ContentFile(image), save=False)
    signature.full_clean(exclude=["image"])
    signature.save()
    return signature
