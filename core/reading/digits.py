"""Numbers of a Hebrew photo re-read by the model that reads digits, labels kept as read.

A photo judged Hebrew is read with Tesseract's Hebrew script model alone: with `eng` beside
it, Hebrew words of photos went to the Latin model and the labels were lost. But that model
reads 6 as 8 and 0 as 9 more often and drops a date's slashes ("06/02/2026" as "0602/2026"),
which cost dates, customer numbers and allocation numbers (no check digit to catch them).
So the lines that hold digits are cut out, stacked and read once more with `eng`
(one run, `core.reading.crops`), and only the number words of that read replace the number
words they cover: the labels stay the Hebrew model's, the digits come from both models.
"""

from __future__ import annotations

import re
from dataclasses import replace

from PIL import Image

from core.reading.crops import read_crops_words
from core.reading.ids import PHONE, is_valid_business_number
from core.reading.ports import OcrEngine, OcrText, OcrWord

_DIGIT = re.compile(r"\d")
_HEBREW = re.compile(r"[\u0590-\u05FF]")
# A number as printed on an invoice: digits with separators, a currency sign or a percent.
_SEPARATOR = re.compile(r"[./:\-]")
_NUMBER_WORD = re.compile(r"^[\d.,/:\-₪$€%()#*]+$")
# Money as printed: thousands separators and two decimals ("2,301.40", "₪118.00", "-50.00").
_MONEY = re.compile(r"^[₪$€(\-]*\d{1,3}(?:[,.]?\d{3})*[.,]\d{2}[)\-]?$")
# A VAT rate ("18%"); a short plain number is never sure, it may be a long one's remnant.
_RATE = re.compile(r"^\d{1,2}(?:\.\d{1,2})?%$")

MAX_LINES = 40  # an A4 invoice has 10-30 lines with digits; a statement is not worth it


def is_number_word(text: str) -> bool:
    """Two digits or more and no letters: an amount, a date, an id, a document number."""
    return len(_DIGIT.findall(text)) >= 2 and bool(_NUMBER_WORD.match(text))


def number_lines(ocr: OcrText, limit: int = MAX_LINES) -> list[tuple[tuple[int, ...], int, int]]:
    """(line key, top, bottom) of the lines with a digit in them, top first."""
    return [(key, top, bottom) for key, top, bottom, _, _ in _number_bands(ocr, limit)]


def _number_bands(
    ocr: OcrText, limit: int = MAX_LINES
) -> list[tuple[tuple[int, ...], int, int, int, int]]:
    """(line key, top, bottom, left, right) of the lines with a digit in them, top first;
    left and right span the line's words that hold digits."""
    if not ocr.words:
        return []
    usual = sorted(w.height for w in ocr.words)[len(ocr.words) // 2]
    bands: dict[tuple[int, ...], list[int]] = {}
    for word in ocr.words:
        if word.height > 2 * usual:
            continue  # a rule or a frame read as a character would make the band the page
        band = bands.setdefault(word.line_key, [word.top, word.bottom, 1 << 30, -1])
        band[0], band[1] = min(band[0], word.top), max(band[1], word.bottom)
        if _DIGIT.search(word.text):
            band[2], band[3] = min(band[2], word.left), max(band[3], word.right)
    lines = [(key, top, bottom, left, right) for key, (top, bottom, left, right) in bands.items()]
    found = [line for line in lines if line[4] >= 0]
    return sorted(found, key=lambda line: line[1])[:limit]


def _overlap(a: OcrWord, b: OcrWord) -> float:
    """Horizontal overlap as a share of the narrower word."""
    inside = min(a.right, b.right) - max(a.left, b.left)
    return max(0, inside) / max(1, min(a.width, b.width))


def merge_numbers(
    words: list[OcrWord], again: list[OcrWord], others: list[OcrWord] | None = None
) -> list[OcrWord]:
    """One line's words with the number words of a second read put in: a second-read number
    replaces the words of the first read it covers when none of them is Hebrew (a label),
    and fills a gap the first read left where no word of `others` (the first read's other
    lines at that height) is. Words keep the line's reading order."""
    others = others or []
    if not words:
        return words
    line_key = words[0].line_key
    out = list(words)
    for number in again:
        if not is_number_word(number.text):
            continue
        covered = [w for w in out if _overlap(w, number) > 0.3]
        if any(_HEBREW.search(w.text) for w in covered):
            continue  # a label glued to its number: keep what the Hebrew model read
        if len(covered) == 1 and covered[0].text == number.text:
            continue
        if covered and not _better("".join(w.text for w in covered), number.text):
            continue
        if not covered and any(_overlap(w, number) > 0.3 for w in others):
            continue  # another column's number, read apart by the first read
        put = replace(number, line_key=line_key)
        if covered:
            # The text changes, not the place: the first read's boxes decide how the line
            # falls into segments and which label a number sits beside.
            left, top = min(w.left for w in covered), min(w.top for w in covered)
            put = replace(
                put,
                left=left,
                top=top,
                width=max(w.right for w in covered) - left,
                height=max(w.bottom for w in covered) - top,
            )
            at = out.index(covered[0])
            out = [w for w in out if w not in covered]
            out.insert(at, put)
            continue
        out.insert(_place(out, put), put)
    return out


def _better(first: str, second: str) -> bool:
    """Whether the second read's number may replace the first read's words. The two models
    differ in single digits (6 and 8, 0 and 9) and separators, not in how many digits are
    printed; a business number whose check digit holds is not replaced by one that fails."""
    digits = "".join(_DIGIT.findall(second))
    first_digits = "".join(_DIGIT.findall(first))
    if (
        is_valid_business_number(digits)
        and abs(len(first_digits) - 9) <= 1
        and not is_valid_business_number(first_digits)
    ):
        # The Hebrew model dropped or added a digit of a business number ("99079004"): a
        # nine-digit read in its place whose check digit holds is the number.
        return True
    # A lone digit is not a number the first read made ("1" where 63164 is printed).
    if len(first_digits) > 1 and len(digits) != len(first_digits):
        return False
    # Either model drops a date's slashes ("25/09/2025" read as "25092025"): keep the read
    # that has more of them.
    if len(_SEPARATOR.findall(second)) < len(_SEPARATOR.findall(first)):
        return False
    if len(digits) == 9 and is_valid_business_number(first_digits):
        return is_valid_business_number(digits)
    return True


def _place(words: list[OcrWord], word: OcrWord) -> int:
    """Where a word goes in a line by its position: right to left when the line reads so."""
    rtl = len(words) > 1 and words[0].left > words[-1].left
    if not rtl and len(words) == 1:
        rtl = bool(_HEBREW.search(words[0].text))
    for index, other in enumerate(words):
        if (word.left > other.left) if rtl else (word.left < other.left):
            return index
    return len(words)


def _word_is_sure(text: str, *, amounts_agree: bool) -> bool:
    """A digit-holding word a second read cannot improve a field with: a nine-digit number
    whose check digit holds, a phone number, or (when the page's net, VAT and total already
    agree) money and a rate, which then decide nothing. A short plain number is never sure:
    it may be what the first read kept of a document or business number ("73")."""
    digits = "".join(_DIGIT.findall(text))
    if not digits:
        return True
    if len(digits) == 9 and is_valid_business_number(digits) and not _HEBREW.search(text):
        return True
    if PHONE.match(text) and not _HEBREW.search(text):
        return True
    return amounts_agree and bool(_MONEY.match(text) or _RATE.match(text))


def lines_worth_rereading(
    ocr: OcrText, *, amounts_agree: bool, keep: re.Pattern[str] | None = None
) -> set[tuple[int, ...]]:
    """The digit lines whose second read can change a field: every line with a word that is
    not sure (a date, a document number, an id failing its check, an amount while the
    amounts do not agree). Lines matching `keep` (labels of numbers without a check, the
    allocation number's) are always re-read."""
    by_line: dict[tuple[int, ...], list[OcrWord]] = {}
    for word in ocr.words:
        by_line.setdefault(word.line_key, []).append(word)
    wanted = set()
    for key, words in by_line.items():
        kept = keep is not None and bool(keep.search(" ".join(w.text for w in words)))
        if kept or not all(_word_is_sure(w.text, amounts_agree=amounts_agree) for w in words):
            wanted.add(key)
    return wanted


def reread_numbers(
    engine: OcrEngine,
    image: Image.Image,
    ocr: OcrText,
    *,
    lang: str,
    only: set[tuple[int, ...]] | None = None,
) -> tuple[OcrText, int]:
    """`ocr` with the number words of its digit lines (those in `only` when given) re-read
    from `image` with `lang` in one run, and how many words changed."""
    lines = [line for line in _number_bands(ocr) if only is None or line[0] in only]
    if not lines:
        return ocr, 0
    height = sorted(w.height for w in ocr.words)[len(ocr.words) // 2]
    pad = max(3, height // 2)
    # Around the line's digits, wide enough for a number the first read cut short or split:
    # reading whole lines with two models cost as much as the page's own read.
    reach = 4 * height
    crops, boxes = [], []
    for _, top, bottom, left, right in lines:
        box = (
            max(0, left - reach),
            max(0, top - pad),
            min(image.width, right + reach),
            min(image.height, bottom + pad),
        )
        boxes.append(box)
        crops.append(image.crop(box))
    found = read_crops_words(engine, crops, lang=lang, psm=6)
    by_line: dict[tuple[int, ...], list[OcrWord]] = {}
    for word in ocr.words:
        by_line.setdefault(word.line_key, []).append(word)
    changed = 0
    for (key, *_), box, again in zip(lines, boxes, found, strict=True):
        # A box taller than its crop is a rule or a frame read as a character, not a number.
        band = box[3] - box[1]
        moved = [
            replace(w, left=w.left + box[0], top=w.top + box[1])
            for w in again
            if w.top >= -2 and w.bottom <= band + 2
        ]
        others = [
            w
            for w in ocr.words
            if w.line_key != key and box[1] <= (w.top + w.bottom) / 2 <= box[3]
        ]
        merged = merge_numbers(by_line[key], moved, others)
        changed += len({w.text for w in merged} ^ {w.text for w in by_line[key]})
        by_line[key] = merged
    # Lines keep their order in the first read.
    words = [w for key in dict.fromkeys(w.line_key for w in ocr.words) for w in by_line[key]]
    return OcrText(words), changed
