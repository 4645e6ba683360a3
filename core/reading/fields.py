"""First readings of each field from a laid-out page, before the cross-checks."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from core.reading import labels as L
from core.reading.amounts import close_decimal_gaps, find_amounts, format_amount
from core.reading.candidates import Candidate, anywhere, labelled, ocr_factor
from core.reading.dates import find_dates, find_glued_dates
from core.reading.ids import is_valid_business_number, nine_digit_numbers
from core.reading.layout import Layout, Segment
from core.reading.result import FieldReading

NONE = FieldReading(None, 0.0, "not found")


def amount_reader(text: str) -> list[tuple[Decimal, int, int]]:
    found = []
    for amount in find_amounts(text, decimals_only=True):
        if text[amount.end : amount.end + 2].strip().startswith("%"):
            continue  # a rate, not money
        found.append((amount.value, amount.start, amount.end))
    return found


# A whole amount after a currency, as rupee and ringgit bills print them ("Grand Total Rs
# 1939"). Not the shekel: Israeli documents print agorot, so "₪ 193900" is a point lost.
_WHOLE_AFTER_CURRENCY = re.compile(
    r"(?:\bRs\.?|\bINR|\bRM|\bUSD|\bEUR|\bGBP|\$|€|£)\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?![\d.,]|\s?%)"
)


def _whole_amount_reader(text: str) -> list[tuple[Decimal, int, int]]:
    found = []
    for match in _WHOLE_AFTER_CURRENCY.finditer(text):
        value = Decimal(match.group("num").replace(",", ""))
        found.append((value.quantize(Decimal("0.01")), match.start("num"), match.end("num")))
    return found


def _money_line_reader(text: str) -> list[tuple[Decimal, int, int]]:
    """Amounts on a total or payment line, where receipt print often loses its decimal point
    to OCR ("RM8 60", "6 00"): read as printed first, closing the gap only if nothing reads;
    a whole amount only after its currency, and only when no amount with cents is there."""
    return (
        amount_reader(text)
        or amount_reader(close_decimal_gaps(text))
        or _whole_amount_reader(text)
    )


def _best_amount(cands: list[Candidate[Decimal]], *, last: bool) -> Candidate[Decimal] | None:
    """Of the strongest label's amounts, the first (or last: "VAT 17% on 100.00 17.00")."""
    if not cands:
        return None
    top = max(c.strength for c in cands)
    best = [c for c in cands if c.strength >= top - 1e-9]
    first = best[0]
    same_line = [c for c in best if c.segment is first.segment and c.where == "same"]
    return same_line[-1] if last and same_line else first


def _amount_field(cand: Candidate[Decimal] | None, label: str) -> FieldReading:
    if cand is None:
        return NONE
    conf = (0.5 + 0.3 * cand.strength) * ocr_factor(cand.ocr_conf)
    return FieldReading(format_amount(cand.value), round(conf, 3), f"{label} label ({cand.where})")


def read_total(layout: Layout) -> tuple[FieldReading, list[Decimal]]:
    """The amount near the strongest total label, preferring one the payment lines confirm
    (cash, card, cash minus change); the largest when still tied. Also every amount printed."""
    cands = [
        c
        for c in labelled(
            layout, lambda t: L.label_strength(t, L.TOTAL_LABELS, L.NOT_TOTAL), _money_line_reader
        )
        # A bare "Amount" above a number heads a column (tax summaries), not the total.
        if not (c.where == "below" and c.strength < L.BARE_AMOUNT + 1e-9)
    ]
    everything = [c.value for c in anywhere(layout, amount_reader)]
    paid = [
        c.value for c in labelled(layout, lambda t: _flag(L.PAYMENT_LABELS, t), _money_line_reader)
    ]
    change = [
        c.value for c in labelled(layout, lambda t: _flag(L.CHANGE_LABELS, t), amount_reader)
    ]
    confirmed = set(paid) | {p - c for p in paid for c in change if p > c > 0}
    counts = Counter(everything)
    # A rounding line turns one total into the final one: total + rounding = final total.
    rounding = [
        c.value
        for c in labelled(layout, lambda t: _flag(L.ROUNDING_LABELS, t), amount_reader)
        if abs(c.value) < 1
    ]
    values = {c.value for c in cands}
    rounded = {v + r for v in values for r in rounding if r and v + r in values}

    def support(cand: Candidate[Decimal]) -> float:
        if cand.value in rounded:
            return 0.8  # the final total after rounding outranks the one before
        if cand.value in confirmed:
            return 0.35
        # Printed twice is weaker: tax summaries repeat sub-totals ("Total 0% supplies").
        return 0.2 if counts[cand.value] >= 2 else 0.0

    if not cands:
        derived = sorted({p - c for p in paid for c in change if p > c > 0})
        if len(derived) == 1:
            return FieldReading(format_amount(derived[0]), 0.4, "payment minus change"), everything
        # No total line read, but the payment matches the sub-total (tax included, no change).
        subtotals = {
            c.value
            for c in labelled(
                layout, lambda t: L.label_strength(t, L.NET_LABELS), _money_line_reader
            )
        }
        matching = sorted(subtotals & set(paid))
        if len(matching) == 1 and matching[0] > 0:
            return (
                FieldReading(
                    format_amount(matching[0]),
                    0.4,
                    "payment equal to the sub-total, no total line read",
                ),
                everything,
            )
        return NONE, everything
    best = max(cands, key=lambda c: (c.strength + support(c), abs(c.value)))
    if best.value not in rounded:
        # The final total's own line misread ("Net Totai: RM7.70" after "Rounding: -RM0.02"),
        # the payment read: the total rounded by the rounding line's amount, either sign as
        # OCR drops it, and paid is the total paid.
        after = {best.value + d for r in rounding for d in (r, -r) if r} & confirmed
        if len(after) == 1:
            return (
                FieldReading(format_amount(after.pop()), 0.75, "total after rounding, as paid"),
                everything,
            )
    if not support(best):
        # Paid minus change is the total too: two lines agreeing on a value one digit away
        # from the total line's mean that line was misread (5 read as 3, 0 as 8).
        paid_less_change = {p - c for p in paid for c in change if p > c >= 0} - {best.value}
        near = [d for d in paid_less_change if _one_digit_apart(d, best.value)]
        if len(near) == 1:
            return (
                FieldReading(
                    format_amount(near[0]),
                    0.6,
                    "payment minus change, the total line read one digit off",
                ),
                everything,
            )
    conf = (0.5 + 0.3 * best.strength + (0.1 if support(best) else 0.0)) * ocr_factor(
        best.ocr_conf
    )
    reason = f"total label ({best.where})" + (
        ", confirmed by another line" if support(best) else ""
    )
    return FieldReading(format_amount(best.value), round(min(conf, 0.9), 3), reason), everything


def _one_digit_apart(a: Decimal, b: Decimal) -> bool:
    x, y = format_amount(a), format_amount(b)
    return len(x) == len(y) and sum(p != q for p, q in zip(x, y, strict=True)) == 1


def _flag(pattern: re.Pattern[str], text: str) -> tuple[float, int]:
    match = pattern.search(text)
    return (1.0, match.end()) if match else (0.0, -1)


def read_vat(layout: Layout) -> FieldReading:
    cands = list(
        labelled(layout, lambda t: L.label_strength(t, L.VAT_LABELS, L.NOT_VAT), amount_reader)
    )
    return _amount_field(_best_amount(cands, last=True), "VAT")


def read_net(layout: Layout) -> FieldReading:
    cands = list(labelled(layout, lambda t: L.label_strength(t, L.NET_LABELS), amount_reader))
    return _amount_field(_best_amount(cands, last=False), "before-VAT")


def _date_reader(month_first: bool) -> Callable[[str], list[tuple[date, int, int]]]:
    def read(text: str) -> list[tuple[date, int, int]]:
        return [(d.value, d.start, d.end) for d in find_dates(text, month_first=month_first)]

    return read


def _glued_date_reader(text: str) -> list[tuple[date, int, int]]:
    return [(d.value, d.start, d.end) for d in find_glued_dates(text)]


# A time printed with points after its label ("Time. 11.14.00") is not a date: hours,
# minutes and seconds between points ("Date/Time: 11/14/20" is a date after the label).
_TIME_LABEL_BEFORE = re.compile(r"(?i)(?:\btime|\bhour|שעה)\W{0,3}$")
_TIME_WITH_POINTS = re.compile(r"(?:[01]?\d|2[0-3])\.[0-5]?\d\.[0-5]\d")


def month_first_evidence(text: str) -> bool:
    """True when the numeric dates on the page can only be month-first (US style)."""
    day_first = month_first = 0
    for match in re.finditer(r"(?<!\d)(\d{1,2})[./-](\d{1,2})[./-](\d{2,4})(?!\d)", text):
        a, b = int(match.group(1)), int(match.group(2))
        # A receipt's time read as month-first (minute 14 as a day) turned its day-first
        # date "05/02/2018" into 2 May (SROIE photo 130).
        if _TIME_WITH_POINTS.fullmatch(match.group(0)) and _TIME_LABEL_BEFORE.search(
            text[max(0, match.start() - 12) : match.start()]
        ):
            continue
        if a > 12 >= b:
            day_first += 1
        elif b > 12 >= a:
            month_first += 1
    return month_first > day_first


def read_date(layout: Layout, *, today: date, hebrew: bool) -> FieldReading:
    month_first = not hebrew and month_first_evidence(layout.text)
    read = _date_reader(month_first)
    date_label = lambda t: L.label_strength(t, L.DATE_LABELS, L.NOT_DATE)  # noqa: E731
    cands = list(labelled(layout, date_label, read))
    glued = False
    if not cands:
        cands = list(labelled(layout, date_label, _glued_date_reader))
        glued = bool(cands)
    if not cands:
        cands = [c for c in anywhere(layout, read) if not L.NOT_DATE.search(c.segment.text)]
    if not cands:
        return NONE
    top = max(c.strength for c in cands)
    best = min(
        (c for c in cands if c.strength >= top - 1e-9),
        key=lambda c: (*(() if top else _issue_date_rank(c, today)), c.order),
    )
    conf = (0.55 + 0.35 * best.strength) * ocr_factor(best.ocr_conf)
    reason = "date label" if best.strength else "first date printed"
    if glued:
        conf *= 0.75  # the digits are sure, where the day ends is a guess
        reason += ", separators lost"
    value: date = best.value
    repaired = _year_misread(value, today) if value > today else None
    if repaired is not None:
        value, conf = repaired, min(conf, 0.45)
        reason += f", year read as {best.value.year}: in the future"
    elif value > today:
        conf *= 0.3
        reason += ", in the future"
    elif (today - value).days > 2 * 366:
        conf *= 0.6
        reason += ", more than two years old"
    text = best.segment.text
    ambiguous = any(d.ambiguous for d in find_dates(text) if d.value == value)
    if ambiguous and not hebrew:
        conf *= 0.85
        reason += ", day and month could be swapped"
    return FieldReading(value.isoformat(), round(conf, 3), reason)


# Digits the Hebrew model misreads on photos (6 as 8, 0 as 9): a year in the future one such
# digit away from a year just past was misread ("28/06/2028" for 28/06/2026).
_YEAR_MISREAD = {"8": "6", "9": "0"}


def _year_misread(value: date, today: date) -> date | None:
    """The one date within the last two years that `value`'s year becomes with one of its
    last two digits read back; None when there is none or more than one."""
    year = str(value.year)
    found = set()
    for at in (2, 3):
        back = _YEAR_MISREAD.get(year[at])
        if back is None:
            continue
        try:
            candidate = value.replace(year=int(year[:at] + back + year[at + 1 :]))
        except ValueError:  # 29 February
            continue
        if today - timedelta(days=2 * 366) <= candidate <= today:
            found.add(candidate)
    return found.pop() if len(found) == 1 else None


_TIME_AFTER = re.compile(r"^[\s,]{1,3}\d{1,2}\s?[:.]\s?\d{2}(?![./-]\d)")


def _issue_date_rank(cand: Candidate[date], today: date) -> tuple[bool, bool]:
    """Without a label, a receipt's date is not in the future and is printed with the time
    of sale: "24-01-16 11:44" rather than a product code that parses as a date."""
    text = cand.segment.text
    with_time = any(
        found.value == cand.value and _TIME_AFTER.search(text[found.end :])
        for found in find_dates(text)
    )
    return cand.value > today, not with_time


_DOC_NO = re.compile(r"(?<![\w/])#?\s?([A-Za-z]{0,6}[#/_-]?\d[\w/_-]*)")


_GLUED_SYMBOLS = set("$§&@%")


def doc_number_reader(text: str) -> list[tuple[str, int, int]]:
    found = []
    for match in _DOC_NO.finditer(text):
        if text[match.start(1) - 1 : match.start(1)] in _GLUED_SYMBOLS:
            # A digit read as a symbol ("$5195" for 65195): the rest is not the number.
            continue
        token = match.group(1).strip("-/_")
        if find_dates(token) or len(re.sub(r"\D", "", token)) < 2:
            continue
        found.append((token, match.start(1), match.end(1)))
    return found[:1]


def read_doc_number(layout: Layout) -> FieldReading:
    cands = list(
        labelled(
            layout,
            lambda t: L.label_strength(t, L.DOC_NUMBER_LABELS),
            doc_number_reader,
            below_lines=2.0,
        )
    )
    if not cands:
        return NONE
    top = max(c.strength for c in cands)
    best = min((c for c in cands if c.strength >= top - 1e-9), key=lambda c: c.order)
    conf = (0.5 + 0.35 * best.strength) * ocr_factor(best.ocr_conf)
    return FieldReading(best.value, round(conf, 3), f"number label ({best.where})")


def _nine_digits(text: str) -> list[tuple[str, int, int]]:
    return [(digits, start, start + 9) for digits, start in nine_digit_numbers(text)]


def _near_label(layout: Layout, seg: Segment, pattern: re.Pattern[str], lines: float) -> bool:
    if pattern.search(seg.text):
        return True
    for other in layout.segments:
        if pattern.search(other.text) and (
            seg in layout.below(other, max_lines=lines) or seg in layout.beside(other)[:1]
        ):
            return True
    return False


def read_ids(layout: Layout, found: dict[str, Segment] | None = None) -> dict[str, FieldReading]:
    """Vendor, customer and allocation numbers: 9-digit runs told apart by their labels.
    `found` receives the segment each id came from, for re-reading."""
    allocation: Candidate[str] | None = None
    customer: Candidate[str] | None = None
    vendor: list[Candidate[str]] = []
    for cand in anywhere(layout, _nine_digits):
        seg = cand.segment
        if L.PHONE_LABELS.search(seg.text) and not L.ID_LABEL.search(seg.text):
            continue
        if _near_label(layout, seg, L.ALLOCATION_LABELS, 1.5):
            allocation = allocation or cand
        elif _near_label(layout, seg, L.CUSTOMER_LABELS, 4.0):
            cand.strength = 1.0
            customer = customer or cand
        elif buyer_id_pair(seg.text) or _buyer_pair_on_row(layout, seg):
            cand.strength = 0.8  # a label shape, not its words: never confident alone
            customer = customer or cand
        else:
            strength, _ = L.label_strength(seg.text, L.VENDOR_ID_LABELS)
            if not strength:
                strength = 1.0 if _near_label(layout, seg, L.ID_LABEL, 1.5) else 0.3
            cand.strength = strength
            vendor.append(cand)
    if found is not None:
        ranked = sorted(vendor, key=lambda c: (-c.strength, c.order))
        if ranked:
            found["vendor_id"] = ranked[0].segment
        if customer:
            found["customer_id"] = customer.segment
        if allocation:
            found["allocation_number"] = allocation.segment
    return {
        "vendor_id": _pick_business_number(vendor),
        "customer_id": _pick_business_number([customer] if customer else []),
        "allocation_number": _allocation(allocation),
    }


_WORD = re.compile(r"[\u05D0-\u05EAA-Za-z]{3,}")


def buyer_id_pair(text: str) -> bool:
    """A number labelled only by the buyer's two-id label ("ח.פ/ת.ז", misread or not): no
    seller's label and no word beside it (the seller's "עוסק מורשה / ח.פ" has a slash too)."""
    pair = L.ID_PAIR.search(text)
    if pair is None:
        return False
    return not _WORD.search(text[: pair.start()] + " " + text[pair.end() :])


def _buyer_pair_on_row(layout: Layout, seg: Segment) -> bool:
    """The buyer's two-id label ("ח.פ/ת.ז", read as "n/n") printed a gap away from its
    number, so OCR made it a segment of its own on the number's row: the number is the
    buyer's when that row has no seller's label and no word beside it."""
    if not layout.has_boxes or L.label_strength(seg.text, L.VENDOR_ID_LABELS)[0] > 0:
        return False
    if _WORD.search(L.ID_PAIR.sub(" ", seg.text)):
        return False
    row = [
        s
        for s in layout.segments
        if s is not seg
        and min(s.bottom, seg.bottom) - max(s.top, seg.top)
        > 0.5 * min(s.bottom - s.top, seg.bottom - seg.top)
    ]
    if any(L.label_strength(s.text, L.VENDOR_ID_LABELS)[0] > 0 for s in row):
        return False
    return any(buyer_id_pair(s.text) for s in row)


def _pick_business_number(cands: list[Candidate[str]]) -> FieldReading:
    """The strongest candidate whose check digit holds; a failing one only as a weak guess."""
    ordered = sorted(cands, key=lambda c: (-c.strength, c.order))
    for cand in ordered:
        if is_valid_business_number(cand.value):
            conf = (0.6 + 0.35 * cand.strength) * max(0.85, ocr_factor(cand.ocr_conf))
            skipped = ordered.index(cand)
            reason = "check digit ok" + (f", after {skipped} failing" if skipped else "")
            if not cand.strength >= 1.0:
                reason += ", no label"
            return FieldReading(cand.value, round(conf, 3), reason)
    if ordered:
        return FieldReading(ordered[0].value, 0.15, "check digit fails: probably misread")
    return NONE


def _allocation(cand: Candidate[str] | None) -> FieldReading:
    if cand is None:
        return FieldReading(None, 0.0, "no allocation number read")
    # No check digit: an OCR'd digit can be wrong unnoticed (0 read as 9 on the benchmark).
    conf = 0.85 * ocr_factor(cand.ocr_conf)
    return FieldReading(cand.value, round(conf, 3), "allocation label")


_CURRENCIES: list[tuple[str, re.Pattern[str]]] = [
    ("ILS", re.compile(r"₪|ש\"ח|(?<![\u0590-\u05FF])שח(?![\u0590-\u05FF])|\bNIS\b|\bILS\b|שקל")),
    ("USD", re.compile(r"\$|\bUSD\b|US\s*Dollars?", re.I)),
    ("EUR", re.compile(r"€|\bEUR\b|\beuros?\b", re.I)),
    ("GBP", re.compile(r"£|\bGBP\b")),
    ("INR", re.compile(r"₹|\bINR\b|\bRs\.?\s?\d|\bRupees?\b", re.I)),
    ("PLN", re.compile(r"\bzł|\bPLN\b|\bzl\b", re.I)),
    ("MYR", re.compile(r"\bRM\s?\d|\bMYR\b|\bRM\b")),
]


def read_currency(text: str, *, hebrew: bool) -> FieldReading:
    counts = Counter({code: len(p.findall(text)) for code, p in _CURRENCIES})
    ranked = [(code, n) for code, n in counts.most_common() if n]
    if ranked:
        code, n = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0
        conf = 0.95 if n >= 2 and n >= 3 * runner_up else 0.75 if n > runner_up else 0.5
        return FieldReading(code, conf, f"'{code}' signs printed {n} times")
    if hebrew:
        return FieldReading("ILS", 0.8, "Hebrew document without a currency sign")
    return FieldReading(None, 0.0, "no currency sign")


_COMPANY = re.compile(
    r"בע\"?מ|\b(?:ltd|limited|inc|llc|gmbh|ag|b\.?v|s\.?a|sarl|s[doua]n\.?\s*bhd|bhd|enterprise|"
    r"trading|restaurant|corp|services|store|mart|hardware|spółka|s/b|s[doua]n\.?\s*b[a-z]{1,2}d)\b",
    re.I,
)
_NOT_NAME = re.compile(
    r"חשבונית|קבלה|מקור|העתק|עוסק|(?<![\u0590-\u05FF])(?:ח\.?פ|טל)(?![\u0590-\u05EA])|invoice|receipt|tax|page|date|bill\s*to|"
    r"company\s*(?:no|reg)|gst\s*(?:id|reg|ref|no)|^\W*(?:tel|fax)\b|"
    r"\d{5,}|www\.|@|^\W*$",
    re.I,
)


def _head(layout: Layout, rows: int = 7) -> list[Segment]:
    """The segments at the top of the first page, top to bottom (OCR block order is not)."""
    if not layout.segments:
        return []
    first = layout.segments[0].line
    if not layout.has_boxes:
        return [s for s in layout.segments if s.line <= first + rows][:12]
    page = [s for s in layout.segments if s.top < 10_000]  # merge() shifts later pages down
    ordered = sorted(page, key=lambda s: (s.top, -s.right))
    limit = ordered[0].top + rows * layout.line_height * 1.5 if ordered else 0
    return [s for s in ordered if s.top <= limit][:12]


def read_vendor_name(layout: Layout) -> FieldReading:
    """A company name near the top (בע"מ, Ltd, Sdn Bhd...), else the first line that reads
    like a name rather than an address or a label."""
    names: list[tuple[str, Segment, bool]] = []
    for seg in _head(layout):
        name = _clean_name(seg.text)
        if (
            len(re.findall(r"[A-Za-z\u0590-\u05FF]", name)) < 4
            or _NOT_NAME.search(name)
            or _mean_conf(seg) < 0.5
        ):
            continue
        if _ADDRESS.search(name) and not _COMPANY.search(name):
            continue
        # A header label ("מספר מסמך", as photos misread it "מספר מסמן") is never the name,
        # but still fills its place at the top: a company further down is the buyer's.
        names.append((name, seg, _a_label(name)))
    for name, seg, label in names[:4]:
        if _COMPANY.search(name) and not label:
            return FieldReading(
                name, round(0.75 * ocr_factor(seg.conf()), 3), "company name at the top"
            )
    for name, seg, label in names:
        if not label:
            return FieldReading(
                name, round(0.5 * ocr_factor(seg.conf()), 3), "first line that reads like a name"
            )
    return NONE


def _a_label(text: str) -> bool:
    return bool(
        L.label_strength(text, L.DOC_NUMBER_LABELS)[0]
        or L.label_strength(text, L.DATE_LABELS)[0]
        or L.CUSTOMER_LABELS.search(text)
    )


_ADDRESS = re.compile(
    r"^\W*(?:lot|no\.?\s*\d|jalan|\d+\s*,|tel|fax)|\bjalan\b|\btaman\b|"
    r"רחוב|\bst\.|\bstreet\b|\broad\b|\bave\b|"
    # "הרצל 110, פתח תקווה", "רח' יפו", "ת.ד. 123", "מיקוד"
    r"[\u05D0-\u05EA\"']{2,}\s+\d{1,4}[\u05D0-\u05EA]?\s*,|"
    r"(?<![\u0590-\u05FF])(?:רח|שד)'|ת\.\s?ד\.?\s?\d|מיקוד",
    re.I,
)


def _mean_conf(seg: Segment) -> float:
    return sum(c for _, _, c in seg.spans) / len(seg.spans) if seg.spans else 1.0


def _clean_name(text: str) -> str:
    text = re.split(r"\s{2,}|חשבונית|קבלה", text)[0]
    # The owner's line of a shop's receipt, its label read onto the same line.
    text = re.sub(r"^\s*(?:owned|operated)\s+by\s*:?\s*", "", text, flags=re.I)
    # Company registration numbers printed after the name: (519537-X), (139386 X)
    text = re.sub(
        r"\(?\s*(?:co\.?\s*(?:reg\.?\s*)?no\.?\s*:?)?\s*\d{4,}[\s:-]*[A-Z]?\s*\)?\s*$",
        "",
        text,
        flags=re.I,
    )
    return text.strip(" :-|.,")


def read_cheque_amount(layout: Layout) -> FieldReading:
    """A cheque prints its amount once, beside the payee, usually with the shekel sign."""
    for cand in anywhere(layout, amount_reader):
        if "₪" in cand.segment.text or 'ש"ח' in cand.segment.text:
            conf = 0.7 * ocr_factor(cand.ocr_conf)
            return FieldReading(format_amount(cand.value), round(conf, 3), "amount on a cheque")
    return NONE
