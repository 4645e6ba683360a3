"""Which kind of document this is, from the words printed on it."""

from __future__ import annotations

import re

from core.domain import DocumentKind

K = DocumentKind
# "חשבונית" as photos come back: a letter lost or split off ("חשבונ ת מס", "חשבנית").
INVOICE = r"חשבו?נ\s?[יו']?\s?ת"

# Checked in order; the first rule that matches wins. (kind, pattern, confidence)
_RULES: list[tuple[DocumentKind, re.Pattern[str], float]] = [
    (K.PAYSLIP, re.compile(r"תלוש\s*(?:שכר|משכורת)|payslip|pay\s*slip", re.I), 0.95),
    (
        K.BANK_STATEMENT,
        re.compile(
            r"דף\s*(?:חשבון|בנק)|תדפיס\s*(?:חשבון|בנק)|bank\s*statement|"
            r"יתרה\s*סופית|עו\"ש|"
            # misread on photos: "דף חשבק עובר ושב", "דף חשבן"; the movements table's header
            r"דף\s*חשבו?[ןנק]|עובר\s*ו[שו][בכ]|תיאור\s*התנועה",
            re.I,
        ),
        0.9,
    ),
    (K.CHEQUE, re.compile(r"שלמו\s*ל|לפקודת|pay\s*to\s*the\s*order|סך\s*של\s.*שקלים", re.I), 0.9),
    (
        K.CREDIT_NOTE,
        re.compile(
            rf"{INVOICE}\s*(?:מס\s*)?זיכוי|הודעת\s*זיכוי|credit\s*note|"
            r"תעודת\s*זיכוי|avoir|gutschrift",
            re.I,
        ),
        0.95,
    ),
    (
        K.TAX_INVOICE_RECEIPT,
        re.compile(
            rf"{INVOICE}\s*מס\s*[/\\|,-]?\s*(?:ו)?קבלה|"
            r"tax\s*invoice\s*/\s*receipt",
            re.I,
        ),
        0.95,
    ),
    # Its last letter lost at the title's end ("חשבונית מס / קבל"): the slash still says
    # the title names both.
    (
        K.TAX_INVOICE_RECEIPT,
        re.compile(rf"{INVOICE}\s*מס\s*[/\\|]\s*(?:ו)?קבל(?![\u0590-\u05FF])"),
        0.85,
    ),
    (
        K.PROFORMA,
        re.compile(r"חשבו(?:ן|נית)\s*עסקה|דרישת\s*תשלום|פרופורמה|pro\s*-?forma", re.I),
        0.95,
    ),
    (K.TAX_INVOICE, re.compile(rf"{INVOICE}\s*מס", re.I), 0.95),
    (K.RECEIPT, re.compile(r"(?<![\u0590-\u05FF])קבלה(?![\u0590-\u05FF])"), 0.9),
    # No title read. A cheque writes its amount in words ("סך של ... שקלים חדשים", its
    # small yods lost on photos: "שקלם חדשם"); a document that says how it was paid is a
    # receipt.
    (K.CHEQUE, re.compile(r"שקלי?ם\s*חדשי?ם"), 0.6),
    (K.RECEIPT, re.compile(r"שולם\s*[/|]?\s*באמצעות"), 0.5),
]
# A payslip's own columns and totals: with its title lost ("לוש שכר", or a title under a
# logo read as nothing), three of them say payslip. An invoice that withholds tax or a
# statement that credits a salary may print one or two ("ניכוי מס במקור" is not "ניכויים").
_PAYSLIP_WORDS = re.compile(
    r"ברוטו|(?<![\u0590-\u05FF])ניכויים|נטו\s*לתשלום|רכיבי\s*שכר|שכר\s*יסוד|"
    r"ביטוח\s*לאומי|מס\s*בריאות|ימי\s*עבודה|gross\s*pay|net\s*pay|deductions",
    re.I,
)
_PAYSLIP_AT_LEAST = 3
_CARD_SLIP = re.compile(
    r"עסקה\s*אושרה|כרטיס\s*אשראי|(?<![\u0590-\u05FF])שובר|מסוף|אישור\s*עסקה|"
    r"העתק\s*(?:ל)?לקוח|approval\s*code|card\s*holder|cardholder\s*copy|"
    r"merchant\s*copy|terminal\s*id",
    re.I,
)
_INVOICE_WORDS = re.compile(r"חשבונית|קבלה|invoice|receipt|faktur|factu|rechnung", re.I)
_FOREIGN_INVOICE = re.compile(r"invoice|faktura|factuur|facture|rechnung|fattura", re.I)
_FOREIGN_RECEIPT = re.compile(
    r"receipt|cash\s*bill|\bcashier\b|\bchange\b|\bcash\b|"
    r"\bqty\b|\bitem",
    re.I,
)


def classify(text: str, *, hebrew: bool) -> tuple[DocumentKind, float, str]:
    """(kind, confidence, reason)."""
    for kind, pattern, confidence in _RULES:
        match = pattern.search(text)
        if match:
            return kind, confidence, f"printed '{match.group(0)}'"
    payslip = {" ".join(m.group(0).casefold().split()) for m in _PAYSLIP_WORDS.finditer(text)}
    if len(payslip) >= _PAYSLIP_AT_LEAST:
        return K.PAYSLIP, 0.6, "no title read; a payslip's columns: " + ", ".join(sorted(payslip))
    if _CARD_SLIP.search(text) and not _INVOICE_WORDS.search(text):
        return K.CARD_SLIP, 0.85, "card-terminal words without invoice words"
    if hebrew:
        if _CARD_SLIP.search(text):
            return K.CARD_SLIP, 0.5, "card-terminal words"
        return K.UNKNOWN, 0.3, "no document title read"
    receipt = _FOREIGN_RECEIPT.search(text)
    invoice = _FOREIGN_INVOICE.search(text)
    if receipt and (not invoice or (len(text) < 1500 and _looks_like_till_roll(text))):
        return K.RECEIPT, 0.75, f"printed '{receipt.group(0)}'"
    if invoice:
        return K.INVOICE, 0.8, f"printed '{invoice.group(0)}'"
    if receipt:
        return K.RECEIPT, 0.6, f"printed '{receipt.group(0)}'"
    return K.UNKNOWN, 0.2, "no document title read"


def _looks_like_till_roll(text: str) -> bool:
    """Shop receipts: short lines, a cash/change block."""
    lines = [line for line in text.splitlines() if line.strip()]
    short = sum(1 for line in lines if len(line) < 45)
    return bool(lines) and short / len(lines) > 0.7
