"""Filed documents as the books see them, for tests and the benchmark."""

from __future__ import annotations

from typing import Any

from core.domain import Document, DocumentKind, DocumentState


def filed(
    document_id: int,
    total: str,
    vat: str,
    *,
    kind: DocumentKind = DocumentKind.TAX_INVOICE,
    category: str = "office_supplies",
    day: str = "2026-11-05",
    number: str | None = None,
    vendor_id: str | None = "514713288",
    vendor_name: str = "ספק בע״מ",
    currency: str | None = None,
    allocation: str | None = None,
    organization_id: int = 1,
) -> Document:
    def value(v: str) -> dict[str, Any]:
        return {"value": v, "confidence": 1.0}

    fields: dict[str, Any] = {
        "total": value(total),
        "vat": value(vat),
        "date": value(day),
        "doc_number": value(number or str(10000 + document_id)),
        "vendor_name": value(vendor_name),
    }
    if vendor_id:
        fields["vendor_id"] = value(vendor_id)
    if currency:
        fields["currency"] = value(currency)
    if allocation:
        fields["allocation_number"] = value(allocation)
    return Document(
        uploaded_by=1,
        batch=f"b{document_id}",
        source_platform="telegram",
        source_chat_id=1,
        source_message_id=document_id,
        organization_id=organization_id,
        kind=kind,
        state=DocumentState.FILED,
        fields=fields,
        id=document_id,
        category=category,
    )
