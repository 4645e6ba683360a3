"""Printed labels that announce each field, Hebrew and foreign, strongest first.

Patterns run on normalised text (Hebrew quotes turned into ASCII `"`), case-insensitive.
"""

from __future__ import annotations

import re

Q = r"[\"'`]?"  # a quote OCR may drop or change: סה"כ, סה''כ, סהכ
# Hebrew OCR's word model ends a word with a final letter, so acronyms come back as מע"ם and
# סה"ך on photos: the labels below accept either form of their last letter.

# Hebrew letters do not count as word characters for \b next to quotes, so spell the edge.
HB = r"(?<![\u0590-\u05FFA-Za-z])"


# Letters Tesseract's Hebrew model confuses on photos, each with what it was read as
# (il-synthetic phone photos: לכבוד as לכבור / לכבוו, מסמך as מסמן / מססך, מספר as מסנר,
# תאריך as חאריך / תארד, חשבון as חשבק). Final and plain forms are one letter here.
_CONFUSED = {
    "א": "אנ",
    "ב": "בכנג",  # "לכגוד": 5 of the 134 buyer labels read on the dev photos
    "ד": "דרוך",
    "ה": "החת",
    "ו": "וזןי",
    "ח": "חהת",
    "ט": "טס",
    "י": "יו'",
    "כ": "כךבנדןץ",
    "מ": "מםסנ",
    "נ": "נןכו",
    "ס": "סםמט",
    "פ": "פףנ",
    "צ": "צץע",
    "ק": "קן",
    "ר": "רדו",
    "ת": "תחה",
}
_FINAL = str.maketrans("ךםןףץ", "כמנפצ")


def fuzzy(word: str, *, last_optional: bool = False, slipped: bool = False) -> str:
    """A pattern for a Hebrew label word as OCR misreads it: each letter may come back as
    one it is confused with, a vav or yod may be dropped ("חשבן"), with `slipped` one may
    be slipped in ("מוסנוך"), and with `last_optional` the last letter may be lost ("תארי",
    "לכבו"). Both freedoms at once make other words match (תאריך would take תיאור)."""
    plain = word.translate(_FINAL)
    # At most one letter fewer than printed: "תאר" is not a misread of תאריך.
    parts = [f"(?=[\u05d0-\u05ea']{{{len(plain) - 1}}})"]
    for index, letter in enumerate(plain):
        alike = "".join(dict.fromkeys(letter + word[index] + _CONFUSED.get(letter, "")))
        part = f"[{alike}]"
        if letter in "וי" or (last_optional and index == len(plain) - 1):
            part += "?"
        if slipped and index and letter not in "וי":
            part = "[וי]?" + part
        parts.append(part)
    return "".join(parts)


def _compile(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


BARE_AMOUNT = 0.55

# (pattern, strength): strength ranks competing labels for one field.
TOTAL_LABELS: list[tuple[re.Pattern[str], float]] = [
    (
        _compile(
            rf"סה{Q}[כך]\s*ל?תשלום",
            r"סה.{0,2}[כך]\s*לתשלום",
            rf"סה{Q}[כך]\s*כולל\s*מע{Q}[מם]",
            r"grand\s*total",
            r"total\s*amount\s*due",
            r"amount\s*due",
            r"balance\s*due",
            r"total\s*due",
            r"total\s*ttc",
            r"net\s*[àa]\s*payer",
            r"do\s*zap[łl]aty",
            r"gesamtbetrag",
            r"rechnungsbetrag",
            r"endbetrag",
            r"total\s*payable",
            r"total\s*(?:amount\s*)?\(?incl",
            r"rounded\s*total",
            r"total\s*rounded",
            r"nett\s*total",
            r"total\s*sales\s*\(?incl",
        ),
        1.0,
    ),
    (
        _compile(
            r"לתשלום",
            r"סך\s*הכל",
            rf"סה{Q}[כך]\s*כללי",
            r"total\s*amount",
            r"totaal",
            r"razem",
            r"summe",
            r"montant\s*total",
            r"total\s*sales",
            r"total\s*\(rm\)",
            r"total\s*rm",
        ),
        0.8,
    ),
    (_compile(rf"{HB}סה{Q}[כך](?![\u0590-\u05FF])", r"\btotal\b"), 0.6),
    # Alone, mostly a column header on receipts ("Amount (RM)  Tax (RM)"): see read_total.
    (_compile(r"\bamount\b"), BARE_AMOUNT),
]
# Labels that contain a total word but name something else.
NOT_TOTAL = _compile(
    r"sub\s*-?\s*total",
    r"total\s*ht\b",
    r"total\s*excl",
    r"total\s*(?:tax|gst|vat|qty|quantity)",
    r"total\s*items?",
    r"total\s*discount",
    r"total\s*savings?",
    r"total\s*net",
    rf"לפני\s*מע{Q}[מם]",
    r"סכום\s*ביניים",
    rf"סה{Q}[כך]\s*(?:ברוטו|ניכויים|חובה|זכות|הנחה)",
    r"excl",
    r"without",
    r"^\W*net\s*(?:amount|price|value)",
    r"netto",
    r"tax\s*amount",
    r"gst\s*summary",
    r"total\s*gst",
    r"change",
    r"cash",
    r"tendered",
    # The tax inside a total, and tax-summary tables: "GST @6% included in total RM 3.01",
    # "TAX TOTAL: 6.23", "Tax Code  Amount  Tax".
    r"(?:tax|gst|vat|sst)\s*total",
    r"included\s*in\s*(?:the\s*)?total",
    r"total\s*includes",
    r"tax\s*code",
    r"amount\s*\(?\s*\w{0,3}\s*\)?\s*tax",
)

VAT_LABELS: list[tuple[re.Pattern[str], float]] = [
    (
        _compile(
            rf"{HB}מע{Q}[מם](?![\u0590-\u05FF])",
            rf"{HB}מע[מם]",
            r"\bvat\b",
            r"\btva\b",
            r"\bbtw\b",
            r"\bmwst\b",
            r"\bust\b",
            r"\bgst\b",
            r"\bsst\b",
            r"\btax\b",
            r"\bvat\s*amount",
            r"\bpodatek\b",
            r"\bsales\s*tax",
        ),
        1.0,
    ),
]
NOT_VAT = _compile(
    rf"לפני\s*מע{Q}[מם]",
    rf"כולל\s*מע{Q}[מם]",
    rf"ללא\s*מע{Q}[מם]",
    r"incl",
    r"excl",
    r"exclusief",
    r"tax\s*invoice",
    r"gst\s*(?:reg|id|no)",
    r"vat\s*(?:reg|id|no|number|/tin)",
    r"tva\s*(?:intra|f\d)",
    r"btw\s*nl",
    r"btw\s*(?:nr|nummer)",
    r"ust\s*-?id",
    r"mwst\s*-?nr",
    r"not\s*a\s*vat",
    r"subtotal",
    r"total\s*ht",
    r"\bnet\b",
    r"סכום\s*ביניים",
    r"before\s*tax",
    r"tax\s*\(0%\)",
)

NET_LABELS: list[tuple[re.Pattern[str], float]] = [
    (
        _compile(
            rf"לפני\s*מע{Q}[מם]",
            r"סכום\s*ביניים",
            rf"ללא\s*מע{Q}[מם]",
            r"sub\s*-?\s*total",
            r"total\s*ht\b",
            r"total\s*excl",
            r"exclusief\s*btw",
            r"amount\s*before",
            r"total\s*net",
            r"net\s*amount",
            r"nettobetrag",
            r"netto",
            r"total\s*excluding",
            r"before\s*tax",
            r"excl\.?\s*(?:vat|tax|gst)",
        ),
        1.0,
    ),
]

DATE_LABELS: list[tuple[re.Pattern[str], float]] = [
    (
        _compile(
            r"תאריך\s*(?:הפקה|מסמך|חשבונית|הוצאה)",
            r"invoice\s*date",
            r"date\s*of\s*issue",
            r"issue\s*date",
            r"bill\s*date",
            r"receipt\s*date",
            r"factuurdatum",
            r"rechnungsdatum",
            r"data\s*wystawienia",
            r"date\s*de\s*facture",
        ),
        1.0,
    ),
    (
        _compile(
            r"תאריך",
            rf"{HB}{fuzzy('תאריך', last_optional=True)}(?![\u0590-\u05FF])",
            r"\bdate\b",
            r"\bdatum\b",
            r"\bdated\b",
            r"\bdata\b",
        ),
        0.8,
    ),
]
NOT_DATE = _compile(
    r"due",
    r"order\s*date",
    r"orderdatum",
    r"פירעון",
    r"ערך",
    r"delivery",
    r"period",
    r"expiry",
    r"valid",
    r"לחודש",
    r"הופק",
    r"תקופ",
)

DOC_NUMBER_LABELS: list[tuple[re.Pattern[str], float]] = [
    # OCR misreads of "מספר מסמך" seen on photos: "סספרמסמך", "ספר מסמן", "מספר מססך".
    (
        _compile(
            r"מספר\s*מסמך",
            rf"מס{Q}\s*מסמך",
            r"[סמ]?[סמ]?ספר\s*[מס]{2,3}[ךכן]",
            rf"{HB}{fuzzy('מספר')}\s*{fuzzy('מסמך', slipped=True)}(?![\u0590-\u05FF])",
            # "מספר" given to the Latin model ("won מסמך") on pages read with both.
            rf"(?<![A-Za-z])[A-Za-z]{{3,4}}\s+{fuzzy('מסמך')}(?![\u0590-\u05FF])",
            rf"חשבונית\s*(?:מס\s*)?(?:/\s*קבלה\s*)?מס{Q}\s",
            rf"מס{Q}\s*חשבונית",
            r"מספר\s*חשבונית",
            rf"קבלה\s*מס{Q}\s",
            r"מספר\s*קבלה",
            r"invoice\s*(?:no|number|num|nr|#)\.?",
            r"receipt\s*(?:no|number|#)\.?",
            r"bill\s*(?:no|number|#)\.?",
            r"document\s*(?:no|number)\.?",
            r"inv\.?\s*(?:no|#)\.?",
            r"facture\s*n[°o]",
            r"factuurnummer",
            r"rechnungsnr",
            r"rechnungsnummer",
            r"faktura\s*(?:vat\s*)?nr",
            r"\bcs\s*no\b",
            r"doc(?:ument)?\s*no",
        ),
        1.0,
    ),
    (_compile(r"invoice\s*#", r"\bno\s*:", r"\bref(?:erence)?\s*(?:no|#)"), 0.6),
]

VENDOR_ID_LABELS: list[tuple[re.Pattern[str], float]] = [
    (
        _compile(
            r"עוסק\s*מורשה",
            rf"{HB}{fuzzy('מורשה')}(?![\u0590-\u05FF])",  # "עסק מרשה", "pow מורשה"
            rf"{HB}ח\s*[.\"]?\s*פ\b",
            rf"{HB}ח\.?\s*פ[.:\s]",
            rf"{HB}ע\s*[.\"]\s*מ(?![\u0590-\u05FF])",
            r"מספר\s*עוסק",
            rf"מס{Q}\s*עוסק",
            r"עוסק\s*פטור",
            r"מלכ\"ר",
        ),
        1.0,
    ),
]
ID_LABEL = _compile(rf"{HB}ת\s*[.\"]?\s*ז", r"ח\.?\s*פ", r"עוסק")
# The buyer, however Israeli invoices print it: "לכבוד", "שם הלקוח", "ח.פ. לקוח",
# "מספר עוסק של הלקוח", "ע.מ. הלקוח", a box titled "לקוח"; and foreign "bill to", "customer".
CUSTOMER_LABELS = _compile(
    r"לכבוד",
    rf"{HB}{fuzzy('לכבוד', last_optional=True)}",
    r"שם\s*ה?לקוח",
    rf"{HB}ה?לקוח(?![\u0590-\u05FF])",
    r"bill\s*to",
    r"\bcustomer\b",
    r"sold\s*to",
    r"\bbuyer\b",
    r"\bclient\b",
)
# The buyer's box labels its number with both ids, company or person ("ח.פ/ת.ז", "ע.מ/ת.ז"):
# photos return it as "nפ/1.n", "1.n/9n", "תפ/ת.1": two short pieces around a slash, with a
# letter in them (not a date or a fraction).
ID_PAIR = re.compile(
    r"(?<!\S)(?=[^\s]*[A-Za-z\u05D0-\u05EA])[^\s/:]{1,3}\s?/\s?[^\s/:]{1,3}:?(?!\S)"
)
PAYMENT_LABELS = _compile(
    r"\bcash\b",
    r"payment",
    r"\bpaid\b",
    r"tendered",
    r"\bvisa\b",
    r"master\s*card",
    r"credit\s*card",
    r"שולם",
    r"מזומן",
)
CHANGE_LABELS = _compile(r"\bchange\b", r"עודף")
ROUNDING_LABELS = _compile(r"round", r"עיגול")
ALLOCATION_LABELS = _compile(
    r"מספר\s*הקצאה",
    rf"מס{Q}\s*הקצאה",
    rf"{HB}{fuzzy('הקצאה', last_optional=True)}(?![\u0590-\u05FF])",
    r"allocation\s*(?:no|number)",
)
PHONE_LABELS = _compile(
    rf"{HB}טל(?![\u0590-\u05EA])", r"פקס", r"נייד", r"\btel\b", r"phone", r"\bfax\b", r"mobile"
)


def label_strength(
    text: str, labels: list[tuple[re.Pattern[str], float]], exclude: re.Pattern[str] | None = None
) -> tuple[float, int]:
    """(strength, end of the label in `text`) of the strongest label, (0, -1) when none."""
    if exclude is not None and exclude.search(text):
        return 0.0, -1
    for pattern, strength in labels:
        match = pattern.search(text)
        if match:
            return strength, match.end()
    return 0.0, -1
