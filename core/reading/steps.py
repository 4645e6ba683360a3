"""The reading steps, in the order `default_steps()` runs them."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from PIL import Image

from core.domain import DocumentKind
from core.reading import (
    crosscheck,
    digits,
    fields,
    ids,
    imaging,
    kinds,
    labels,
    layout,
    pdf,
    result,
    several,
)
from core.reading.amounts import amount_in_hebrew_words, format_amount
from core.reading.crops import read_crops, read_crops_words
from core.reading.dates import find_dates, find_glued_dates
from core.reading.fingerprint import Fingerprint
from core.reading.ids import is_valid_business_number, nine_digit_numbers
from core.reading.pipeline import Context, Page, Step, Stop
from core.reading.ports import DEFAULT_LANG, OcrEngine, OcrText, OcrWord
from core.reading.result import FieldReading
from core.reading.tax_rules import known_vat_rates
from core.reading.text import hebrew_share, normalise

log = logging.getLogger(__name__)

_HEBREW_LETTER = re.compile(r"[\u05D0-\u05EA]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")

IMAGE_TYPES = {"image/jpeg", "image/jpg", "image/png", "image/webp", "image/tiff", "image/bmp"}


class BaseStep:
    name = "step"

    def applies(self, ctx: Context) -> bool:
        return True

    def run(self, ctx: Context) -> None:
        raise NotImplementedError

    def cleanup(self, ctx: Context) -> None:
        return None


def _image_pages(ctx: Context) -> list[Page]:
    return [p for p in ctx.pages if p.image is not None and p.text is None]


class LoadPdf(BaseStep):
    name = "load_pdf"

    def applies(self, ctx: Context) -> bool:
        return ctx.mime_type == "application/pdf"

    def run(self, ctx: Context) -> None:
        try:
            document = pdf.open_pdf(ctx.data)
            ctx.resources.append(document)
            pages, total = pdf.read_pages(document, ctx.limits)
            ctx.pages = [Page(image=p.image, text=p.text) for p in pages]
            ctx.pages_skipped = total - len(pages)
        except pdf.PdfProblem as problem:
            raise Stop(problem.problem) from problem

    def cleanup(self, ctx: Context) -> None:
        for resource in ctx.resources:
            close = getattr(resource, "close", None)
            if close:
                close()
        ctx.resources.clear()


class LoadText(BaseStep):
    name = "load_text"

    def applies(self, ctx: Context) -> bool:
        return ctx.mime_type.startswith("text/")

    def run(self, ctx: Context) -> None:
        ctx.pages = [Page(text=normalise(ctx.data.decode("utf-8", errors="replace")))]


class LoadImage(BaseStep):
    name = "load_image"

    def applies(self, ctx: Context) -> bool:
        return ctx.mime_type in IMAGE_TYPES

    def run(self, ctx: Context) -> None:
        try:
            images, total = imaging.load_pages(ctx.data, ctx.limits)
            ctx.pages = [Page(image=image, source_side=max(image.size)) for image in images]
            ctx.pages_skipped = total - len(images)
        except imaging.ImageTooLarge as error:
            raise Stop(result.TOO_LARGE) from error
        except imaging.NotAnImage as error:
            raise Stop(result.UNSUPPORTED) from error


class RejectUnknownType(BaseStep):
    name = "reject_unknown_type"

    def applies(self, ctx: Context) -> bool:
        return not ctx.pages

    def run(self, ctx: Context) -> None:
        raise Stop(result.UNSUPPORTED)


@dataclass(frozen=True)
class QualityLimits:
    """Measured on factory-made invoices degraded step by step and on the benchmark samples.

    Sharpness (Laplacian variance at 800 px): every benchmark scan is above 600; Gaussian blur
    of 2.5 px gives 56-76 and the first misread fields, 3 px gives 28-35 and loses half of
    them. Brightness: a page darkened to 74 still read fully, to 62 (contrast 7.7) it did not;
    the darkest benchmark scan is 166.
    """

    min_ink: float = 0.002  # share of ink pixels below which the page is blank
    min_contrast: float = 8.0
    min_brightness: float = 70.0
    min_sharpness: float = 60.0


class FindPage(BaseStep):
    """A photo shows the paper on a table: find its outline, undo the perspective and crop
    the table away before anything measures or reads the page. A scan, a screenshot or a
    page with no clear edge is left as it is."""

    name = "find_page"
    # With no outline, a photo whose print fills less than this share of it is cut to its
    # ink box: a cheque or a half-printed page on a table was read whole, background
    # included (and enlarged with it for small print), at 4x bare Tesseract's time.
    ink_crop_below = 0.8

    def applies(self, ctx: Context) -> bool:
        return ctx.mime_type in IMAGE_TYPES and bool(_image_pages(ctx))

    def run(self, ctx: Context) -> None:
        for page in _image_pages(ctx):
            assert page.image is not None
            outline = imaging.find_page(page.image)
            if outline is None:
                self._to_the_ink(ctx, page)
                continue
            page.image = imaging.crop_page(page.image, outline)
            page.photo = True
            ctx.steps.append(
                f"page found ({outline.area_share:.0%} of the picture, "
                f"contrast {outline.contrast:.0f}): cropped to "
                f"{page.image.width}x{page.image.height}"
            )

    def _to_the_ink(self, ctx: Context, page: Page) -> None:
        assert page.image is not None
        box = imaging.ink_box(page.image)
        share = 1.0
        if box is not None:
            share = (box[2] - box[0]) * (box[3] - box[1]) / (page.image.width * page.image.height)
        # A scan's blank margins are left alone: cut, its clean page read differently.
        if (
            box is None
            or share >= self.ink_crop_below
            or imaging.plain_paper_around(page.image, box)
        ):
            ctx.steps.append("no page outline: the whole picture is read")
            return
        page.image = page.image.crop(box)
        # A table around the print: a photo, read as one (the Hebrew script model in process,
        # the page's own words telling the script). Read as a scan, by the command with
        # `Hebrew+eng`, these took 0.3 s more each and read no better (dev: 13 of 216 photos).
        page.photo = True
        ctx.steps.append(f"no page outline: cut to the print's box ({share:.0%} of the picture)")


class CheckQuality(BaseStep):
    name = "check_quality"

    def __init__(self, limits: QualityLimits | None = None) -> None:
        self.limits = limits or QualityLimits()

    def applies(self, ctx: Context) -> bool:
        return bool(_image_pages(ctx))

    def run(self, ctx: Context) -> None:
        limits = self.limits
        for page in _image_pages(ctx):
            assert page.image is not None
            quality = imaging.measure(page.image)
            if quality.brightness < limits.min_brightness:
                ctx.problem(result.DARK)
                if quality.contrast < limits.min_contrast:
                    raise Stop(result.DARK)  # too dark to read anything
            if quality.contrast < limits.min_contrast or quality.ink < limits.min_ink:
                raise Stop(result.BLANK)
            if quality.sharpness < limits.min_sharpness:
                ctx.problem(result.BLURRY)


class Deskew(BaseStep):
    """Level slightly tilted text lines (a photo taken at an angle), from the ink's profile."""

    name = "deskew"
    min_angle = 0.4
    # A hand-held photo is rarely tilted this much: more often the page is on its side and
    # the "angle" is noise from vertical lines of text. Then compare with the page turned.
    sideways_above = 8.0
    sideways_margin = 1.03

    def applies(self, ctx: Context) -> bool:
        return bool(_image_pages(ctx))

    def run(self, ctx: Context) -> None:
        for page in _image_pages(ctx):
            assert page.image is not None
            # Grey from here on: every later reader takes the page as grey (OCR, the script
            # probe, the text height, the fingerprint), and a grey page turns in a third of
            # the time (33 ms against 80 ms for a 1280 px photo; within one grey level).
            page.image = page.image.convert("L")
            angle, _ = imaging.estimate_skew(page.image)
            if abs(angle) >= self.sideways_above:
                turned = page.image.rotate(90, expand=True)
                if imaging.level_sharpness(turned) > (
                    imaging.level_sharpness(page.image) * self.sideways_margin
                ):
                    # Which way up is left to the OCR step's orientation check.
                    page.image = turned
                    angle, _ = imaging.estimate_skew(turned)
                    ctx.steps.append("on its side: turned 90")
            if abs(angle) >= self.min_angle:
                page.image = imaging.rotate(page.image, angle)
                ctx.steps.append(f"deskewed {angle:.1f}")


class Ocr(BaseStep):
    """Tesseract on each page. A poor read may be a page on its side or upside down: then ask
    the engine's orientation detection (costly, so only then), turn, read again, keep the better.

    Before the read, a strip of the page is read with the small `heb` model: Hebrew print
    reads with confidence 69-90 there, Latin print 18-53 (benchmark, 88 pages). A Latin page
    is then read with `eng` alone and its small print enlarged: on SROIE that found the
    printed total on 52 receipts of 60 instead of 47, the date on 48 instead of 44, and in
    less time than `Hebrew+eng` at the original size. Hebrew pages are read as before.
    """

    name = "ocr"
    retry_below = 60.0  # mean word confidence of upright pages is 75-95 on the benchmark
    probe_side = 1200
    # Flattening the background rescues photos lit from one side but costs clean scans
    # (il-synthetic doc_number 1.00 -> 0.67 when always on): only above this unevenness.
    flatten_above = 0.2
    # Clean A4 scans measure 11-12 px and read well as they are; the same page in a phone
    # photo shrunk to 1280 px measures 7-10 px and loses digits unless enlarged.
    min_text_height = 10.5
    target_text_height = 18.0
    latin_lang = "eng"
    # A photo the probe found Hebrew is read with the Hebrew script model alone: with `eng`
    # beside it Tesseract gave Hebrew words of photos to the Latin model ("מספר" read as
    # "won", "עוסק" as "pow", "סכום" as "ODO") and took twice the processor time. The script
    # model reads digits and Latin words too; pages without a verdict keep `Hebrew+eng`.
    hebrew_lang = "Hebrew"
    # Its digit lines are read again with `eng` alone: only number words of that read are
    # used, and one model costs half of `Hebrew+eng` (il-synthetic photos: the same fields,
    # allocation numbers 0.60 -> 0.73, 1.53x -> 1.37x bare Tesseract).
    digits_lang = "eng"
    latin_min_text_height = 22.0  # ink blob height in pixels, see imaging.text_height
    script_probe_lines = 6
    probe_text_height = 20.0  # the strip is enlarged to this letter height for the probe
    # Both scripts' letter models; `heb` turns digits into 0, which does not matter here.
    probe_lang = "heb+eng"
    probe_word_conf = 40.0  # noise read as letters comes back below this
    # Latin print read by both models yields a few stray Hebrew letters (SROIE: up to 15%
    # of the letters); Hebrew pages 60% and more. The same line as LayOut's Hebrew verdict.
    latin_below_hebrew_share = 0.3
    script_probe_min_letters = 10  # fewer letters in the strip tell nothing
    # A Hebrew verdict on fewer letters than this is checked against the page's own read.
    weak_probe_letters = 20
    # A page passes the quality check with ink on it, so fewer words than this means the
    # read failed (SROIE: purple print on grey paper on a dark table gave 2 words).
    few_words = 3
    block_lines = 3  # a skipped region this many lines tall is a block, not a framed box
    # Papers with no document's amounts, date or numbers to lose: the blocks read on payslips
    # (their shaded boxes, 14 of the 26 dev photos read) gave nothing.
    no_blocks = frozenset({DocumentKind.PAYSLIP, DocumentKind.BANK_STATEMENT})

    def __init__(self, lang: str = DEFAULT_LANG, psm: int = 3, reread_digits: bool = True) -> None:
        self.lang, self.psm = lang, psm
        # Hebrew photos: lines with digits read again with `digits_lang` (core.reading.digits).
        self.reread_digits = reread_digits
        self.photo = False  # the page being read was cropped out of a photo
        self.last_height = 0.0  # letter height measured by the last `_read`
        self.last_script = ""  # the script probe's verdict in the last `_read`, "" when none
        self.last_letters = 0  # how many letters that verdict was drawn from

    def applies(self, ctx: Context) -> bool:
        return bool(_image_pages(ctx))

    def run(self, ctx: Context) -> None:
        for page in _image_pages(ctx):
            assert page.image is not None
            self.photo = page.photo
            ocr, prepared, lang, engine = self._read(ctx, page.image, photo=page.photo)
            page.text_px = self.last_height
            first = ocr
            if len(ocr.words) < self.few_words:
                ocr, prepared = self._binarised(ctx, engine, prepared, ocr, lang)
            if self._probe_misled(ctx, ocr, engine, binarised=ocr is not first):
                ocr, prepared, lang, engine = self._read(
                    ctx, page.image, photo=page.photo, latin=True
                )
            if ocr.mean_conf < self.retry_below:
                ocr, prepared, engine = self._turned(
                    ctx, page.image, prepared, ocr, engine, lang=lang
                )
            hebrew_photo = page.photo and self.last_script == "hebrew"
            if hebrew_photo and engine is ctx.engine:
                ocr = self._skipped_blocks(ctx, prepared, ocr)
            if self.reread_digits and hebrew_photo and engine is ctx.engine:
                # Only the lines whose second read can change a field: it cost a sixth of a
                # photo's processor time, much of it on lines the checks already confirm.
                only = digits.lines_worth_rereading(
                    ocr,
                    amounts_agree=amounts_agree(layout.from_ocr(ocr)),
                    keep=labels.ALLOCATION_LABELS,
                )
                ocr, changed = digits.reread_numbers(
                    ctx.engine, prepared, ocr, lang=self.digits_lang, only=only
                )
                ctx.steps.append(
                    f"number lines re-read with {self.digits_lang}: {len(only)} lines,"
                    f" {changed} changed"
                )
            page.latin_engine_read = ctx.latin_engine is not None and engine is ctx.latin_engine
            page.ocr_image = prepared
            page.ocr_scale = max(prepared.size) / max(page.image.size)
            page.layout = layout.from_ocr(ocr)
            page.ocr_conf = ocr.mean_conf

    def _skipped_blocks(self, ctx: Context, prepared: Image.Image, ocr: OcrText) -> OcrText:
        """Blocks of print several lines tall that the page read returned no words for
        (Tesseract's layout analysis dropped a whole table of a photo: its items, totals
        and their labels): each read again as one block of text and added to the read."""
        if not ocr.words or kinds.classify(ocr.text, hebrew=True)[0] in self.no_blocks:
            return ocr
        line = sorted(w.height for w in ocr.words)[len(ocr.words) // 2]
        boxes = [(w.left, w.top, w.right, w.bottom) for w in ocr.words]
        blocks = imaging.unread_regions(
            prepared, boxes, limit=2, heights=(round(self.block_lines * 2 * line), 10**6)
        )
        if not blocks:
            return ocr
        reader = ctx.photo_engine or ctx.engine
        words = list(ocr.words)
        for number, (left, top, right, bottom) in enumerate(blocks):
            read = reader.image_to_text(
                prepared.crop((left, top, right, bottom)), lang=self.hebrew_lang, psm=6
            )
            words += [
                OcrWord(
                    w.text,
                    w.left + left,
                    w.top + top,
                    w.width,
                    w.height,
                    w.conf,
                    (10_000 + number, *w.line_key),  # lines of their own, not the page's
                )
                for w in read.words
            ]
        ctx.steps.append(f"blocks the page read skipped, read again: {len(blocks)}")
        return OcrText(words)

    def _probe_misled(
        self, ctx: Context, ocr: OcrText, engine: OcrEngine, *, binarised: bool
    ) -> bool:
        """The probe's strip called the page Hebrew on a few letters (on a photo: the page's
        own read had too few to tell), and the whole page, read again as Hebrew, is Latin
        print: a SROIE receipt with no outline, its strip read as "5 Hebrew, 10 Latin
        letters", was read with the Hebrew model at 3x (no field)."""
        # A photo's read that told nothing is judged by its binarised read (SROIE 230-s1:
        # no word, then 108 Latin ones), as a scan's is when its probe read few letters.
        weak = (
            binarised and self.last_script == ""
            if self.photo
            else self.last_script == "hebrew" and self.last_letters < self.weak_probe_letters
        )
        if not weak or engine is not ctx.engine or ctx.latin_engine is None:
            return False
        return self._script(ctx, ocr, "script of the page read") == "latin"

    def _read(
        self, ctx: Context, image: Image.Image, *, photo: bool = False, latin: bool | None = None
    ) -> tuple[OcrText, Image.Image, str, OcrEngine]:
        """The page read; `latin` says the script, else the probe or the page's words do."""
        flatten = photo or imaging.paper_unevenness(image) > self.flatten_above
        flat = imaging.flatten_background(image.convert("L")) if flatten else None
        height = imaging.text_height(flat if flat is not None else image)
        self.last_height = height
        if latin is not None:
            self.last_script = "latin" if latin else "hebrew"
        elif photo and self.lang == DEFAULT_LANG and height > 0:
            # No separate script probe on photos: the page is read with the Hebrew script
            # model (which reads Latin letters too) and its own words tell the script. A
            # Hebrew page, most of what clients send, is then read once; a Latin one again.
            read = self._read_hebrew_photo(ctx, image, height, flat)
            if read is not None:
                return read
            latin = True
        else:
            latin = self._latin(ctx, image, height, flat)
        engine = ctx.latin_engine if latin and ctx.latin_engine is not None else ctx.engine
        # The Latin engine scales each text box itself: enlarging the page only costs time.
        if latin and engine is not ctx.engine:
            low = target = 0.0
        elif latin:
            low = target = self.latin_min_text_height
        else:
            low, target = self.min_text_height, self.target_text_height
        prepared, notes = imaging.prepare_for_ocr(
            image,
            min_text_height=low,
            target_text_height=target,
            flatten=flatten,
            height=height,
            flattened=flat,
        )
        ctx.steps.extend(notes)
        if engine is not ctx.engine:
            ctx.steps.append(f"read with {getattr(engine, 'name', 'the Latin engine')}")
        # Only on photos: on clean scans `Hebrew` alone misread digits that `Hebrew+eng`
        # read (il-synthetic scans: date 1.00 -> 0.89, net 1.00 -> 0.87).
        hebrew_photo = self.last_script == "hebrew" and photo
        lang = self.latin_lang if latin else self.hebrew_lang if hebrew_photo else self.lang
        reader = engine
        if photo and engine is ctx.engine and ctx.photo_engine is not None:
            reader = ctx.photo_engine
        return reader.image_to_text(prepared, lang=lang, psm=self.psm), prepared, lang, engine

    def _read_hebrew_photo(
        self, ctx: Context, image: Image.Image, height: float, flat: Image.Image | None
    ) -> tuple[OcrText, Image.Image, str, OcrEngine] | None:
        """The photo read as Hebrew print; None when its words are Latin print."""
        prepared, notes = imaging.prepare_for_ocr(
            image,
            min_text_height=self.min_text_height,
            target_text_height=self.target_text_height,
            height=height,
            flattened=flat,
        )
        reader = ctx.photo_engine or ctx.engine
        ocr = reader.image_to_text(prepared, lang=self.hebrew_lang, psm=self.psm)
        self.last_script = self._script(ctx, ocr, "script of the page read")
        if self.last_script == "latin":
            return None
        ctx.steps.extend(notes)
        return ocr, prepared, self.hebrew_lang, ctx.engine

    def _binarised(
        self, ctx: Context, engine: OcrEngine, prepared: Image.Image, first: OcrText, lang: str
    ) -> tuple[OcrText, Image.Image]:
        """Ink was measured but hardly a word came back: threshold locally and read again."""
        image = imaging.binarise(prepared)
        ocr = engine.image_to_text(image, lang=lang, psm=self.psm)
        ctx.steps.append(f"binarised: {len(first.words)} -> {len(ocr.words)} words")
        return (ocr, image) if len(ocr.words) > len(first.words) else (first, prepared)

    def _latin(
        self, ctx: Context, image: Image.Image, height: float, flat: Image.Image | None = None
    ) -> bool:
        """True when a strip of the page's text reads as Latin letters and no Hebrew ones.

        The strip is the one with the most ink darker than its surroundings (a dark table
        or a shadow is not ink), read with both scripts' models at a readable size; the
        share of Hebrew letters decides, so a Hebrew page never goes to the Latin engine.
        It is cut from the flattened picture when the page is read flattened: a photo cut to
        its print's box keeps a dark table beside the paper, and one Otsu threshold over
        both read a clear Latin strip as nothing ("| כ |", a receipt then read as Hebrew).
        """
        self.last_script = ""
        if self.lang != DEFAULT_LANG or height <= 0:
            return False
        strip = imaging.ink_band(image, round(height * 2.2 * self.script_probe_lines))
        for source in (flat, image) if flat is not None else (image,):
            band = source.crop(strip).convert("L")
            if height < self.probe_text_height:
                factor = min(3.0, self.probe_text_height / height)
                size = (round(band.width * factor), round(band.height * factor))
                band = band.resize(size, Image.Resampling.LANCZOS)
            probe = ctx.engine.image_to_text(band, lang=self.probe_lang, psm=6)
            self.last_script = self._script(ctx, probe, "script probe")
            # Flattening can thin faint print away too (one SROIE photo of nine changed):
            # with too few letters to tell, the picture as it is gets its own read.
            if self.last_script:
                break
        return self.last_script == "latin"

    def _script(self, ctx: Context, read: OcrText, what: str) -> str:
        """ "hebrew" or "latin" by the share of Hebrew letters in the surer words of `read`,
        "" when too few letters were read to tell."""
        words = [w.text for w in read.words if w.conf >= self.probe_word_conf]
        # A lone Hebrew letter in a Latin word is noise; Hebrew words have two or more.
        hebrew = sum(n for n in (len(_HEBREW_LETTER.findall(w)) for w in words) if n >= 2)
        latin = sum(len(_LATIN_LETTER.findall(w)) for w in words)
        self.last_letters = hebrew + latin
        if hebrew + latin < self.script_probe_min_letters:
            ctx.steps.append(f"{what}: too few letters ({hebrew + latin})")
            return ""
        script = "latin" if hebrew / (hebrew + latin) < self.latin_below_hebrew_share else "hebrew"
        ctx.steps.append(f"{what}: {script} ({hebrew} Hebrew, {latin} Latin letters)")
        return script

    def _turned(
        self,
        ctx: Context,
        original: Image.Image,
        image: Image.Image,
        first: OcrText,
        engine: OcrEngine,
        *,
        lang: str = "",
    ) -> tuple[OcrText, Image.Image, OcrEngine]:
        found = ctx.engine.orientation(image)
        # A photo read with the Hebrew script model in process is probed the same way: each
        # turn read by the command with `Hebrew+eng` loaded both models again (a cheque photo
        # spent 5.6 s of processor time on the four probes against 0.7 s for a bare read).
        reader, probe_lang = ctx.engine, self.lang
        if self.photo and ctx.photo_engine is not None and lang == self.hebrew_lang:
            reader, probe_lang = ctx.photo_engine, lang
        if found and found[0] and found[1] >= 1.0:
            turn = found[0]
        elif found and found[1] >= 2.0:
            return first, image, engine  # confidently upright: the page is just poor
        else:
            # Detection unsure (it misses upside-down receipts and shaded photos): read a
            # smaller copy each way round and keep the turn that reads best.
            probe = image.copy()
            probe.thumbnail((self.probe_side, self.probe_side))
            scores = {
                degrees: reader.image_to_text(
                    probe.rotate(degrees, expand=True), lang=probe_lang, psm=self.psm
                ).mean_conf
                for degrees in (0, 180, 90, 270)
            }
            ctx.steps.append(
                "probed turns: " + ", ".join(f"{d}={c:.0f}" for d, c in scores.items())
            )
            turn = max(scores, key=lambda d: scores[d])
            if turn == 0 or scores[turn] < scores[0] + 10:
                return first, image, engine
        # Read the turned page afresh: the script probe may answer differently upright.
        ocr, turned, _, turned_engine = self._read(
            ctx, original.rotate(turn, expand=True), photo=self.photo
        )
        ctx.steps.append(f"turned {turn}: {first.mean_conf:.0f} -> {ocr.mean_conf:.0f}")
        if ocr.mean_conf > first.mean_conf + 5:
            return ocr, turned, turned_engine
        return first, image, engine

    def cleanup(self, ctx: Context) -> None:
        for page in ctx.pages:
            page.image = page.ocr_image = None  # pages can be large; the Reading keeps text


class LayOut(BaseStep):
    name = "layout"

    def run(self, ctx: Context) -> None:
        for page in ctx.pages:
            if page.layout is None and page.text is not None:
                page.layout = layout.from_text(page.text)
        ctx.layout = layout.merge([p.layout for p in ctx.pages if p.layout is not None])
        if len(ctx.layout.text.strip()) < 10:
            raise Stop(result.NO_TEXT)
        ctx.hebrew = hebrew_share(ctx.layout.text) > 0.3


class DetectSeveral(BaseStep):
    """Two receipts photographed side by side: ask for one per picture. Reading goes on, so
    the office still sees what was read."""

    name = "detect_several"

    def applies(self, ctx: Context) -> bool:
        return (
            len(ctx.pages) == 1
            and ctx.pages[0].layout is not None
            and ctx.pages[0].layout.has_boxes
        )

    def run(self, ctx: Context) -> None:
        page_layout = ctx.pages[0].layout
        assert page_layout is not None
        split = several.find_split(page_layout)
        if split is not None:
            ctx.steps.append(f"two documents side by side, split at x={split}")
            ctx.problem(result.SEVERAL_DOCUMENTS)


class Classify(BaseStep):
    name = "classify"

    def run(self, ctx: Context) -> None:
        assert ctx.layout is not None
        kind, conf, reason = kinds.classify(ctx.layout.text, hebrew=ctx.hebrew)
        ctx.kind, ctx.kind_confidence, ctx.kind_reason = kind, conf, reason
        if kind == DocumentKind.CARD_SLIP:
            ctx.problem(result.CARD_SLIP)


class ReadFields(BaseStep):
    name = "read_fields"

    def run(self, ctx: Context) -> None:
        page = ctx.layout
        assert page is not None
        total, ctx.amounts = fields.read_total(page)
        ctx.fields = {
            "vendor_name": fields.read_vendor_name(page),
            **fields.read_ids(page, found=ctx.number_segments),
            "doc_number": fields.read_doc_number(page),
            "date": fields.read_date(page, today=ctx.today, hebrew=ctx.hebrew),
            "total": total,
            "vat": fields.read_vat(page),
            "net": fields.read_net(page),
            "currency": fields.read_currency(page.text, hebrew=ctx.hebrew),
        }
        if ctx.kind == DocumentKind.CHEQUE and ctx.fields["total"].value is None:
            ctx.fields["total"] = fields.read_cheque_amount(page)


class VendorNumberUnderItsName(BaseStep):
    """A Hebrew photo with no seller's number read, or one whose check digit fails: the
    seller's block prints it in small grey print under the company's name ("עוסק מורשה /
    ח.פ: 505891853"), which the page's read skipped or garbled past its label ("עוסק רעשה /
    תפ: 3802229ו8"). The lines under the name, cut small (a large crop the Latin engine's
    text finder shrinks, small print with it: the page's top third read no number on four
    held-out photos of five), are read by the Latin engine, and the one nine-digit number
    there whose check digit holds, no other id field's value, is the seller's. Its label
    read as noise ("9n/nmt pou"), no label vouches for it: 0.6."""

    name = "vendor_number_under_its_name"
    lines_below = 4  # the id line, the address and the phone, in the name's line heights

    def applies(self, ctx: Context) -> bool:
        if ctx.latin_engine is None or not _hebrew_photo(ctx):
            return False
        reading = ctx.fields["vendor_id"]
        return ctx.kind in VendorNumberInSkippedPrint.seller_numbered and (
            not reading.value or reading.confidence < RereadNumbers.failing_below
        )

    def _name_line(self, ctx: Context) -> tuple[layout.Segment, int, int] | None:
        """The name's segment, its height and where its line ends."""
        name, page_layout = ctx.fields["vendor_name"].value, ctx.pages[0].layout
        if not name or page_layout is None:
            return None
        seg = next((s for s in page_layout.segments if name in s.text), None)
        if seg is None:
            return None
        height = seg.bottom - seg.top
        if height > 1.6 * page_layout.line_height:
            # Read as one with the lines under it (its id line among them): the name is
            # their first line, a line high.
            height = round(page_layout.line_height)
        return seg, height, seg.top + height

    def run(self, ctx: Context) -> None:
        image, line = ctx.pages[0].ocr_image, self._name_line(ctx)
        if image is None or line is None:
            return
        seg, height, foot = line
        crop = image.crop(
            (
                max(0, seg.left - (seg.right - seg.left)),  # an id line is wider than a name
                max(0, foot - height // 4),
                min(image.width, seg.right + height),
                min(image.height, foot + self.lines_below * height),
            )
        )
        found = _one_valid_number_by_latin_engine(
            ctx, crop, _other_ids(ctx, "vendor_id"), "vendor number under its name"
        )
        if found:
            ctx.fields["vendor_id"] = FieldReading(
                found,
                0.6,
                f"check digit ok, read under the seller's name by {_latin_engine_name(ctx)}",
            )
            ctx.number_segments.pop("vendor_id", None)  # the failing number's place


class VendorNumberInSkippedPrint(BaseStep):
    """No seller's label nor number read at all: its line may be print the page's read
    skipped (Tesseract's layout analysis drops a shaded or framed header). Read the ink
    regions no word came from with `eng` and take the one number there whose check digit
    holds, on a line with no buyer's label, that is not the buyer's or the allocation
    number. After the buyer's number is looked for, so it is known."""

    name = "vendor_number_in_skipped_print"
    # Papers that print the seller's business number; a cheque, a bank statement or a
    # payslip has none to look for.
    seller_numbered = frozenset(
        {
            DocumentKind.TAX_INVOICE,
            DocumentKind.TAX_INVOICE_RECEIPT,
            DocumentKind.RECEIPT,
            DocumentKind.PROFORMA,
            DocumentKind.CREDIT_NOTE,
        }
    )

    def applies(self, ctx: Context) -> bool:
        if not _hebrew_page_lacks(ctx, "vendor_id") or ctx.kind not in self.seller_numbered:
            return False
        page_layout = ctx.pages[0].layout
        return page_layout is not None and not any(
            labels.label_strength(s.text, labels.VENDOR_ID_LABELS)[0] > 0
            for s in page_layout.segments
        )

    def run(self, ctx: Context) -> None:
        page = ctx.pages[0]
        assert page.ocr_image is not None and page.layout is not None
        regions = _skipped_print(page, apart=True)
        if not regions:
            return
        _take_the_one_valid_id(
            ctx,
            "vendor_id",
            [page.ocr_image.crop(box) for box in regions],
            line_ok=lambda line: (
                not (labels.CUSTOMER_LABELS.search(line) or labels.ID_PAIR.search(line))
            ),
            step="vendor number in skipped print",
            confidence=0.6,
            reason="check digit ok, in print the page's read skipped",
        )


class CustomerNumberInSkippedPrint(BaseStep):
    """No buyer's label nor number read at all, the seller's number read valid (after its
    re-read, so a misread seller's number is not taken for another): the page's read
    skipped the buyer's block (a shaded header row with the document number, the date and
    "לכבוד"). Its ink regions no word came from are read cut tight, three ways, with `eng`
    (a single read of them gave "45sosaees 1.0/9" for 455053264 ת.פ/ת.ז); the valid number
    read most often that is not the seller's nor the allocation number is the buyer's, at
    0.5: no label was read beside it."""

    name = "customer_number_in_skipped_print"

    def applies(self, ctx: Context) -> bool:
        seller = ctx.fields["vendor_id"].value or ""
        if not _hebrew_page_lacks(ctx, "customer_id") or not is_valid_business_number(seller):
            return False
        page = ctx.pages[0]
        return (
            ctx.kind in VendorNumberInSkippedPrint.seller_numbered
            and page.ocr_scale > 1.05
            and page.layout is not None
            and not any(
                labels.CUSTOMER_LABELS.search(s.text) or fields.buyer_id_pair(s.text)
                for s in page.layout.segments
            )
        )

    def run(self, ctx: Context) -> None:
        page = ctx.pages[0]
        assert page.ocr_image is not None and page.layout is not None
        others = _other_ids(ctx, "customer_id")
        regions = [
            layout.Segment("", 0, left=left, top=top, right=right, bottom=bottom)
            for left, top, right, bottom in _skipped_print(page, apart=True)
        ]
        if not regions:
            return
        # All regions on each sheet: three runs at most, not three a region.
        numbers = _numbers_read_three_ways(ctx.engine, page.ocr_image, *regions, others=others)
        found = most_read_valid(numbers, others)
        ctx.steps.append(f"customer number in skipped print: {found or 'nothing valid'}")
        if found:
            ctx.fields["customer_id"] = FieldReading(
                found, 0.5, "check digit ok, in print the page's read skipped, no label read"
            )


class RereadNumbers(BaseStep):
    """A business number whose check digit fails was misread (6 and 8 mostly): read its line
    again, cropped and enlarged, and keep a number whose check digit holds. On a photo also
    a valid one read without a label (0.6): a misread passes the check digit one time in
    ten ("154939060 on" for 156939860 ח.פ); the line read again decides."""

    name = "reread_numbers"
    scale = 2.5
    failing_below = 0.3
    weak_below = 0.7  # a valid number with no label beside it

    def applies(self, ctx: Context) -> bool:
        return _one_page(ctx) and any(self._doubtful(ctx, n) for n in ("vendor_id", "customer_id"))

    def _doubtful(self, ctx: Context, name: str) -> bool:
        reading = ctx.fields[name]
        if not reading.value or name not in ctx.number_segments:
            return False
        if _hebrew_photo(ctx) and reading.confidence < self.weak_below:
            return True
        return reading.confidence < self.failing_below

    def run(self, ctx: Context) -> None:
        image = ctx.pages[0].ocr_image
        assert image is not None
        for name in ("vendor_id", "customer_id"):
            if not self._doubtful(ctx, name):
                continue
            seg, reading = ctx.number_segments[name], ctx.fields[name]
            failing = reading.confidence < self.failing_below
            # Another field's number on the line is not this one; the page's own read of a
            # valid number counts as one read more.
            others = _other_ids(ctx, name)
            second = _number_by_latin_engine(ctx, image, seg, others)
            if second is not None:
                numbers = [second]
            elif ctx.pages[0].ocr_scale > 1.05:
                # Already enlarged for OCR: enlarged again the digits blur into each other
                # (606263408 read as 3.n/9.n at 5.5x). Each read of these blurred digits is
                # a draw (one crop read 529352361, 529952361 and 329952361 on three
                # sheets): several reads, and the check digit keeps those that read right.
                numbers = _numbers_read_three_ways(ctx.engine, image, seg, others=others)
            else:
                crop = _line_padded(image, seg)
                crop = crop.resize(
                    (int(crop.width * self.scale), int(crop.height * self.scale)),
                    Image.Resampling.LANCZOS,
                )
                text = ctx.engine.image_to_text(crop, lang="eng", psm=7).text
                numbers = [n for n, _ in nine_digit_numbers(text)]
            if not failing and second is None:
                numbers.append(str(reading.value))
            found = most_read_valid(numbers, others)
            ctx.steps.append(f"reread {name}: {reading.value} -> {found or 'nothing valid'}")
            if not found or found == reading.value:
                continue
            if second is not None:
                again = f"its line read again by {_latin_engine_name(ctx)}"
                failing_reason, weak_reason = f"after {again}", again
            else:
                failing_reason = "after re-reading the line"
                weak_reason = "read so more often than the page's read on its line"
            ctx.fields[name] = (
                FieldReading(found, 0.8, f"check digit ok {failing_reason}")
                if failing
                else FieldReading(
                    found, round(min(reading.confidence, 0.6), 3), f"check digit ok, {weak_reason}"
                )
            )


class RereadAllocation(BaseStep):
    """An allocation number read in small Hebrew print (a photo) has no check digit to catch
    a misread, and blur makes its 0s read as 6, 8 or 9. Read its line again, cut tight four
    ways, with `eng` (three sheets, as for business numbers), and put back the 0s another
    read saw. Its label read beside a number of the wrong length ("80392580578"): the nine
    digits those reads give most often, twice at least. Its confidence stays below 0.9:
    nothing checks the digits no read disagreed on."""

    name = "reread_allocation"

    def applies(self, ctx: Context) -> bool:
        # Small print: a photo, not a scan.
        return _hebrew_photo(ctx) and self._line(ctx) is not None

    def _line(self, ctx: Context) -> layout.Segment | None:
        """The allocation number's line: where it was read (with a 6, 8 or 9 that may be a
        0), or its label's beside digits."""
        value = ctx.fields["allocation_number"].value
        if value:
            if not set("689").intersection(value):
                return None
            return ctx.number_segments.get("allocation_number")
        page_layout = ctx.pages[0].layout
        assert page_layout is not None
        return next(
            (
                s
                for s in page_layout.segments
                if labels.ALLOCATION_LABELS.search(s.text) and len(re.findall(r"\d", s.text)) >= 7
            ),
            None,
        )

    def run(self, ctx: Context) -> None:
        image = ctx.pages[0].ocr_image
        line = self._line(ctx)
        assert image is not None and line is not None
        reading = ctx.fields["allocation_number"]
        # One sheet: every 0 its three sheets put back on the dev photos, the first saw.
        reads = _numbers_read_three_ways(ctx.engine, image, line, sheets=1)
        if reading.value is None:
            ranked = Counter(reads).most_common(2)
            ctx.steps.append(f"allocation label beside a misread number, re-read: {ranked}")
            if (
                not ranked
                or ranked[0][1] < 2
                or (len(ranked) == 2 and ranked[1][1] == ranked[0][1])
            ):
                return
            value = ids.zeros_restored(ranked[0][0], reads)
            ctx.fields["allocation_number"] = FieldReading(
                value, 0.6, "allocation label, its line re-read: the nine digits read most"
            )
            return
        value = ids.zeros_restored(reading.value, reads)
        ctx.steps.append(f"reread allocation: {reading.value} -> {value}")
        if value != reading.value:
            ctx.fields["allocation_number"] = FieldReading(
                value,
                round(min(reading.confidence, 0.8), 3),
                reading.reason + ", a 0 read as 6, 8 or 9 put back by a re-read",
            )


def most_read_valid(numbers: list[str], others: set[str | None]) -> str | None:
    """The number among `numbers` (several reads of one line) whose check digit holds and
    that was read more often than any other such number; None on a tie. A misread passes
    the check digit one time in ten, so one read of ten may bring a wrong valid number."""
    counts = Counter(n for n in numbers if n not in others and is_valid_business_number(n))
    ranked = counts.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[1][1] == ranked[0][1]):
        return None
    return ranked[0][0]


def _line_padded(image: Image.Image, seg: layout.Segment) -> Image.Image:
    """A number's line with half its height and 4 px of margin around it."""
    pad = (seg.bottom - seg.top) // 2 + 4
    return image.crop(
        (
            max(0, seg.left - pad),
            max(0, seg.top - pad),
            min(image.width, seg.right + pad),
            min(image.height, seg.bottom + pad),
        )
    )


def _read_by_latin_engine(ctx: Context, crops: list[Image.Image]) -> list[str]:
    """Each crop's text by the Latin engine, one at a time (its text finder shrinks a tall
    sheet of crops to 960 px, small print with it). A second reader only: should it fail
    (its models could not load), the reading goes on with Tesseract's, and it is not asked
    again for this document."""
    engine = ctx.latin_engine
    if engine is None:
        return [""] * len(crops)
    try:
        return [engine.image_to_text(crop, lang="eng", psm=6).text for crop in crops]
    except Exception as error:
        log.warning("the Latin engine failed on a re-read (%s); Tesseract's reads stand", error)
        ctx.steps.append(f"Latin engine failed: {error}")
        ctx.latin_engine = None
        return [""] * len(crops)


def _number_by_latin_engine(
    ctx: Context, image: Image.Image, seg: layout.Segment, others: set[str | None]
) -> str | None:
    """The one valid number the Latin engine reads on a Hebrew photo's number line.

    RapidOCR's recogniser reads the digits of blurred small print that Tesseract's
    models, however many times asked, misread (dev photos, 216: business numbers 9 more
    right, none fewer; 529352361 read 529352381 by the page and 529352201 by three more
    reads). Its letters of a Hebrew line are noise, so only a nine-digit number whose
    check digit holds is taken. None without that engine, on a scan, or when it reads
    no such number: Tesseract's reads decide."""
    if ctx.latin_engine is None or not _hebrew_photo(ctx):
        return None
    return _one_valid_number_by_latin_engine(
        ctx, _line_padded(image, seg), others, "number line read by the Latin engine"
    )


def _one_valid_number_by_latin_engine(
    ctx: Context, crop: Image.Image, others: set[str | None], what: str
) -> str | None:
    """The one nine-digit number whose check digit holds, and that is no other id field's
    value, in the Latin engine's read of `crop`; None for none or several. Its letters of
    Hebrew print are noise: only such a number is taken from it."""
    text = _read_by_latin_engine(ctx, [crop])[0]
    valid = {
        n
        for n in ids.nine_digit_numbers_glued(text)
        if n not in others and is_valid_business_number(n)
    }
    ctx.steps.append(f"{what}: {sorted(valid) or 'nothing valid'}")
    return valid.pop() if len(valid) == 1 else None


def _latin_engine_name(ctx: Context) -> str:
    return str(getattr(ctx.latin_engine, "name", "the Latin engine"))


def _reread_tight(ctx: Context, seg: layout.Segment, field: str) -> str | None:
    """On a page enlarged for OCR (a photo), the number on `seg`'s own line read again cut
    tight (the label's line: "עוסק מרשה / תפ 866017", "תפ/n.+t $63912005"); the most read
    valid number that is no other id field's value."""
    page = ctx.pages[0]
    if page.ocr_scale <= 1.05 or page.ocr_image is None:
        return None
    others = _other_ids(ctx, field)
    found = _number_by_latin_engine(ctx, page.ocr_image, seg, others)
    if found is None:
        numbers = _numbers_read_three_ways(ctx.engine, page.ocr_image, seg, others=others)
        found = most_read_valid(numbers, others)
    ctx.steps.append(f"{field} on its label's line re-read cut tight: {found or 'nothing valid'}")
    return found


def _numbers_read_three_ways(
    engine: OcrEngine,
    image: Image.Image,
    *lines: layout.Segment,
    others: set[str | None] | None = None,
    sheets: int = 3,
) -> list[str]:
    """The nine-digit numbers of `lines` cut tight four ways each, read in up to `sheets`
    sheets (all four crops, then each size alone). With `others` given, the later sheets
    are read only while no valid number but those was read twice: they cost a fifth of the
    photo's time and matter only for a line read badly."""
    crops = [number_line_crops(image, line) for line in lines]
    numbers: list[str] = []
    for sheet in ([c for four in crops for c in four[at::step]] for at, step in _SHEETS[:sheets]):
        numbers += [
            number
            for text in read_crops(engine, sheet, lang="eng", psm=6)
            for number, _ in nine_digit_numbers(text)
        ]
        found = most_read_valid(numbers, others) if others is not None else None
        if found and numbers.count(found) >= 2:
            break
    return numbers


# (first, step) into each line's four crops: all of them, the crops at their size, enlarged.
_SHEETS = ((0, 1), (0, 2), (1, 2))


def number_line_crops(image: Image.Image, seg: layout.Segment) -> list[Image.Image]:
    """A number's line cut out of a page already enlarged for OCR, four ways: two margins
    and two sizes. With half a line of margin the crop cut through the lines above and below
    and the digits came back as letters ("12 MATS"); cut tight they read."""
    line = seg.bottom - seg.top
    crops = []
    for margin in (2, max(4, line // 4)):
        crop = image.crop(
            (
                max(0, seg.left - 10),
                max(0, seg.top - margin),
                min(image.width, seg.right + 10),
                min(image.height, seg.bottom + margin),
            )
        )
        larger = crop.resize((crop.width * 3 // 2, crop.height * 3 // 2), Image.Resampling.LANCZOS)
        crops += [crop, larger]
    return crops


def amounts_agree(page_layout: layout.Layout) -> bool:
    """Net, VAT and total read beside their labels and adding up at a VAT rate in force at
    some date: the amounts are settled before any re-read (the cross-check will say so)."""
    total = fields.read_total(page_layout)[0].value
    vat, net = fields.read_vat(page_layout).value, fields.read_net(page_layout).value
    if total is None or vat is None or net is None:
        return False
    t, v, n = Decimal(total), Decimal(vat), Decimal(net)
    return (
        n + v == t
        and v != 0
        and any(crosscheck.vat_matches(n, v, rate) for rate in known_vat_rates())
    )


_IDS = ("vendor_id", "customer_id", "allocation_number")


def _other_ids(ctx: Context, field: str) -> set[str | None]:
    """The values of the id fields but `field`: a number read as one of them is not `field`'s."""
    return {ctx.fields[n].value for n in _IDS if n != field}


def _skipped_print(page: Page, *, apart: bool = False) -> list[tuple[int, int, int, int]]:
    """Boxes of ink on the page as read that its read returned no words for."""
    assert page.ocr_image is not None and page.layout is not None
    boxes = [(s.left, s.top, s.right, s.bottom) for s in page.layout.segments]
    return imaging.unread_regions(page.ocr_image, boxes, apart=apart)


def _take_the_one_valid_id(
    ctx: Context,
    field: str,
    crops: list[Image.Image],
    *,
    step: str,
    confidence: float,
    reason: str,
    line_ok: Callable[[str], bool] = lambda _line: True,
) -> None:
    """`crops` read again with `eng`: `field` becomes the one nine-digit number there whose
    check digit holds, on a line `line_ok` accepts, that is no other id field's value. None
    or several such numbers: the field stays as it was."""
    others = _other_ids(ctx, field)
    valid = {
        n
        for text in read_crops(ctx.engine, crops, lang=Ocr.digits_lang, psm=6)
        for line in text.splitlines()  # a nine-digit run never spans lines
        if line_ok(line)
        for n, _ in nine_digit_numbers(line)
        if n not in others and is_valid_business_number(n)
    }
    ctx.steps.append(f"{step}: {sorted(valid) or 'nothing valid'}")
    if len(valid) == 1:
        ctx.fields[field] = FieldReading(valid.pop(), confidence, reason)


def _one_page(ctx: Context) -> bool:
    """One page, its picture as read at hand: what the steps re-reading its crops need."""
    return len(ctx.pages) == 1 and ctx.pages[0].ocr_image is not None


def _hebrew_photo(ctx: Context) -> bool:
    """One Hebrew page of small print enlarged for OCR: a photo, not a scan."""
    return _one_page(ctx) and ctx.hebrew and ctx.pages[0].ocr_scale > 1.05


def _hebrew_page_lacks(ctx: Context, field: str) -> bool:
    """One Hebrew page, its picture at hand, and `field` read with no value."""
    reading = ctx.fields.get(field)
    return _one_page(ctx) and ctx.hebrew and reading is not None and reading.value is None


def _around(
    seg: layout.Segment, image: Image.Image, line: float, aside: float, below: float
) -> tuple[int, int, int, int]:
    """A label's row and `below` lines under it, `aside` lines to either side, within the
    picture."""
    pad = (seg.bottom - seg.top) // 2 + 4
    return (
        max(0, round(seg.left - aside * line)),
        max(0, seg.top - pad),
        min(image.width, round(seg.right + aside * line)),
        min(image.height, round(seg.bottom + below * line) + pad),
    )


class FindVendorNumber(BaseStep):
    """The seller's label was read but no business number: the Hebrew model drops or
    garbles digits of small print on photos. Read the label's row and the row under it again
    around the label, with both models, and take the one number whose check digit holds."""

    name = "find_vendor_number"
    lines_below = 1.8
    lines_aside = 12  # how far left or right of its label a number may stand

    def applies(self, ctx: Context) -> bool:
        return _hebrew_page_lacks(ctx, "vendor_id")

    def run(self, ctx: Context) -> None:
        page = ctx.pages[0]
        assert page.ocr_image is not None and page.layout is not None
        image, line = page.ocr_image, page.layout.line_height
        label = next(
            (
                s
                for s in page.layout.segments
                if labels.label_strength(s.text, labels.VENDOR_ID_LABELS)[0] > 0
            ),
            None,
        )
        if label is None:
            return
        found = _reread_tight(ctx, label, "vendor_id")
        if found:
            ctx.fields["vendor_id"] = FieldReading(
                found, 0.8, "check digit ok, its label's line re-read cut tight"
            )
            return
        box = _around(label, image, line, self.lines_aside, self.lines_below)
        words = read_crops_words(ctx.engine, [image.crop(box)], lang=DEFAULT_LANG, psm=6)[0]
        buyer = ctx.fields["customer_id"].value
        numbers = [
            (n, w)
            for w in words
            for n, _ in nine_digit_numbers(w.text)
            if n != buyer and not ids.PHONE.match(w.text)
        ]
        valid = {n for n, _ in numbers if is_valid_business_number(n)}
        ctx.steps.append(
            f"vendor number near its label: {sorted(valid) or [n for n, _ in numbers]}"
        )
        if len(valid) == 1:
            ctx.fields["vendor_id"] = FieldReading(
                valid.pop(), 0.8, "check digit ok, re-read beside its label"
            )
        elif len(numbers) == 1 and numbers[0][1].right <= box[2] - box[0]:
            # Misread again (6 as 8): left failing, for RereadNumbers to read its place.
            number, word = numbers[0]
            ctx.fields["vendor_id"] = FieldReading(number, 0.15, "check digit fails")
            ctx.number_segments["vendor_id"] = layout.Segment(
                number,
                label.line,
                left=box[0] + word.left,
                top=box[1] + word.top,
                right=box[0] + word.right,
                bottom=box[1] + word.bottom,
            )


class FindCustomerNumber(BaseStep):
    """The buyer's label or its two-id label ("ח.פ/ת.ז", read as "in/sn") was read but no
    number: the Hebrew model read its digits as letters ("SBMS") or glued them to the label
    ("nפ/3310311123n"). Read around the label again with `eng` and take the one number whose
    check digit holds that is not the seller's."""

    name = "find_customer_number"
    lines_below = 3.5  # "לכבוד" heads the buyer's name, and the number's row under it
    lines_aside = 12

    def applies(self, ctx: Context) -> bool:
        return _hebrew_page_lacks(ctx, "customer_id")

    def run(self, ctx: Context) -> None:
        page = ctx.pages[0]
        assert page.ocr_image is not None and page.layout is not None
        image, line = page.ocr_image, page.layout.line_height
        pair = next((s for s in page.layout.segments if fields.buyer_id_pair(s.text)), None)
        label = next(
            (s for s in page.layout.segments if labels.CUSTOMER_LABELS.search(s.text)), None
        )
        # The number's own line: beside the two-id label, or the first line under "לכבוד"
        # with most of a number on it ("תפ/n.+t $63912005": a 5 read as "$").
        under = page.layout.below(label, max_lines=self.lines_below) if label else []
        line_of_number = pair or next(
            (s for s in under if len(re.findall(r"\d", s.text)) >= 6), None
        )
        found = _reread_tight(ctx, line_of_number, "customer_id") if line_of_number else None
        if found:
            ctx.fields["customer_id"] = FieldReading(
                found, 0.8, "check digit ok, the buyer's number's line re-read cut tight"
            )
            return
        crops = []
        for seg, below in ((pair, 0.0), (label, self.lines_below)):
            if seg is None:
                continue
            crops.append(image.crop(_around(seg, image, line, self.lines_aside, below)))
        if not crops:
            return
        _take_the_one_valid_id(
            ctx,
            "customer_id",
            crops,
            step="customer number near its label",
            confidence=0.8,
            reason="check digit ok, re-read beside the buyer's label",
        )


def _row_enlarged(image: Image.Image, seg: layout.Segment, scale: float) -> Image.Image:
    """A row of the page across its whole width, half its height above and below, enlarged."""
    pad = (seg.bottom - seg.top) // 2 + 3
    crop = image.crop((0, max(0, seg.top - pad), image.width, min(image.height, seg.bottom + pad)))
    return crop.resize(
        (int(crop.width * scale), int(crop.height * scale)), Image.Resampling.LANCZOS
    )


class RereadRows(BaseStep):
    """A value nothing confirmed may be small print misread: read its label rows again,
    across the page and enlarged, and take what the second read finds."""

    name = "reread_rows"
    field = ""
    below_confidence = 0.7
    scale = 2.0
    rows = 3

    def applies(self, ctx: Context) -> bool:
        single = _one_page(ctx)
        reading = ctx.fields.get(self.field)
        # A page OCR already read enlarged gains nothing from a second enlarged read (SROIE:
        # of the totals such re-reads changed, one went right to wrong, none wrong to right).
        enlarged = single and ctx.pages[0].ocr_scale > 1.05
        # Nor does a page the Latin engine read: on SROIE Tesseract's re-read of its totals
        # found nothing 11 times in 15 and the same value the other 4.
        enlarged = enlarged or (single and ctx.pages[0].latin_engine_read)
        return (
            single
            and not enlarged
            and reading is not None
            and reading.confidence < self.below_confidence
        )

    def strength(self, text: str) -> float:
        raise NotImplementedError

    def read(self, ctx: Context, page_layout: layout.Layout) -> FieldReading:
        raise NotImplementedError

    def run(self, ctx: Context) -> None:
        page = ctx.pages[0]
        assert page.ocr_image is not None and ctx.layout is not None
        image = page.ocr_image
        rows = sorted(
            (s for s in ctx.layout.segments if self.strength(s.text) > 0),
            key=lambda s: -self.strength(s.text),
        )[: self.rows]
        texts = []
        for seg in sorted(rows, key=lambda s: s.top):
            crop = _row_enlarged(image, seg, self.scale)
            lang = DEFAULT_LANG if ctx.hebrew else "eng"
            texts.append(ctx.engine.image_to_text(crop, lang=lang, psm=7).text)
        if not texts:
            return
        again = self.read(ctx, layout.from_text("\n".join(texts)))
        current = ctx.fields[self.field]
        ctx.steps.append(f"reread {self.field}: {current.value} -> {again.value}")
        if again.value is None:
            return
        if again.value == current.value:
            current.confidence = round(max(current.confidence, 0.75), 3)
            current.reason += ", same on an enlarged re-read"
        else:
            # Measured on SROIE: where the two reads of a total differ, the enlarged one was
            # right 4 times in 8 and the first read never.
            ctx.fields[self.field] = FieldReading(
                again.value, 0.55, f"{self.field} label, on an enlarged re-read"
            )


class RereadTotal(RereadRows):
    name = "reread_total"
    field = "total"

    def strength(self, text: str) -> float:
        return labels.label_strength(text, labels.TOTAL_LABELS, labels.NOT_TOTAL)[0]

    def read(self, ctx: Context, page_layout: layout.Layout) -> FieldReading:
        return fields.read_total(page_layout)[0]


class RereadDate(BaseStep):
    """No date, or a doubtful one: the Hebrew model drops short numbers ("09/09/2026" read
    as "6 שעה"). Read the date label's line and the line under it again, enlarged, with
    the Latin model that reads digits, and take a date only if one alone is printed there."""

    name = "reread_date"
    below_confidence = 0.5
    scale = 2.0
    # Print smaller than the page's own, which the page read sized the picture for (a
    # cheque's date under its number): read again this much larger when nothing was found.
    small_print_scale = 2.0
    rows = 2
    # Where a cheque prints its date: the top left (an Israeli cheque's layout), the share
    # of its height and width read; the whole width cost twice the time for nothing more.
    cheque_top, cheque_left = 0.35, 0.6
    # A payslip names a month, not a document's date: searching for one cost every payslip
    # photo two reads of skipped print for nothing.
    undated = frozenset({DocumentKind.PAYSLIP})

    def applies(self, ctx: Context) -> bool:
        single = _one_page(ctx)
        reading = ctx.fields.get("date")
        if not single or reading is None or ctx.kind in self.undated:
            return False
        if reading.value is None:
            return True
        # A date the Latin engine read is not overruled by Tesseract's re-read: on receipts
        # it reads dates better (SROIE 0.98 against 0.82), and nearly every SROIE date is
        # doubtful only for being years old; re-reading them replaced right dates with wrong.
        return reading.confidence < self.below_confidence and not ctx.pages[0].latin_engine_read

    def run(self, ctx: Context) -> None:
        page = ctx.pages[0]
        assert page.ocr_image is not None and page.layout is not None
        image = page.ocr_image
        labels_found = [
            s
            for s in page.layout.segments
            if labels.label_strength(s.text, labels.DATE_LABELS, labels.NOT_DATE)[0] > 0
        ][: self.rows]
        header = not labels_found
        if header:
            # The date label itself misread ("חארל"): an invoice's header row names the
            # document number, the date and the buyer together; read under the row instead.
            labels_found = [
                s
                for s in page.layout.segments
                if labels.label_strength(s.text, labels.DOC_NUMBER_LABELS)[0] > 0
                or labels.CUSTOMER_LABELS.search(s.text)
            ][:1]
        crops, cut = [], []
        # A cheque prints its date small at the top, under its number, often with no label
        # read: that corner is read instead (not a header row of an invoice).
        cheque_top = not labels_found and ctx.kind is DocumentKind.CHEQUE
        if cheque_top:
            top = image.crop(
                (
                    0,
                    0,
                    round(image.width * self.cheque_left),
                    round(image.height * self.cheque_top),
                )
            )
            cut.append(top)
            crops.append(_enlarged(top, self.scale))
        for seg in labels_found:
            pad = (seg.bottom - seg.top) // 2 + 3
            reach = seg.bottom + round(1.8 * page.layout.line_height)
            crop = image.crop(
                (0, max(0, seg.top - pad), image.width, min(image.height, reach + pad))
            )
            cut.append(crop)
            crops.append(
                crop.resize(
                    (int(crop.width * self.scale), int(crop.height * self.scale)),
                    Image.Resampling.LANCZOS,
                )
            )
        texts = read_crops(ctx.engine, crops, lang="eng", psm=6)
        if header and not cheque_top:
            ctx.header_rows = texts
        found = self._dates(ctx, texts)
        current = ctx.fields["date"]
        ctx.steps.append(f"reread date: {current.value} -> {sorted(found) or 'nothing'}")
        latin = False
        if not found and cut and _hebrew_photo(ctx) and ctx.latin_engine is not None:
            # RapidOCR reads the digits of blurred small print Tesseract's models misread
            # (as a business number's line, RereadNumbers), at the page read's size.
            again = _read_by_latin_engine(ctx, cut)
            found = self._dates(ctx, again)
            latin = bool(found)  # else the larger read below may find it: Tesseract's
            ctx.steps.append(f"reread date, Latin engine: {sorted(found) or 'nothing'}")
            texts = [*texts, *again]
        if not found and crops:
            larger = [_enlarged(crop, self.small_print_scale) for crop in crops]
            again = read_crops(ctx.engine, larger, lang="eng", psm=6)
            found = self._dates(ctx, again)
            ctx.steps.append(f"reread date larger: {sorted(found) or 'nothing'}")
            texts = [*texts, *again]
        how = "read by the Latin engine" if latin else "re-read enlarged"
        reason = f"the cheque's top, {how}" if cheque_top else f"date label's line, {how}"
        glued = current.value is None or "separators lost" in current.reason
        if not found and glued:
            # Read again without its slashes too ("14052026"): under its label, still a date.
            found = {
                d.value.isoformat()
                for text in texts
                for d in find_glued_dates(text)
                if d.value <= ctx.today
            }
            reason += ", separators lost"
        if not found and current.value is None:
            # No date in the page's read nor under a label: small print the read skipped.
            found = self._in_skipped_regions(ctx, page)
            reason = "the only date in print the page's read skipped"
        if len(found) != 1:
            return
        value = found.pop()
        if value == current.value:
            current.confidence = round(max(current.confidence, 0.7), 3)
            current.reason += ", same on an enlarged re-read"
        else:
            conf = 0.6
            if (ctx.today - date.fromisoformat(value)).days > 2 * 366:
                # Doubtful as on the page's read: a year lost to blur ("2006" for 2026).
                conf, reason = conf * 0.6, reason + ", more than two years old"
            ctx.fields["date"] = FieldReading(value, round(conf, 3), reason)

    def _dates(self, ctx: Context, texts: list[str]) -> set[str]:
        found: set[str] = set()
        for text in texts:
            month_first = not ctx.hebrew and fields.month_first_evidence(text)
            found |= {
                d.value.isoformat()
                for d in find_dates(text, month_first=month_first)
                if d.value <= ctx.today
            }
        return found

    def _in_skipped_regions(self, ctx: Context, page: Page) -> set[str]:
        """No date anywhere: small print OCR's page read skipped (a cheque's date line under
        its number, a shaded header row). Read the ink regions no word came from, enlarged
        unless the page already was, with both models; a date alone there is taken."""
        assert page.ocr_image is not None and page.layout is not None
        boxes = [
            (s.left, s.top, s.right, s.bottom)
            for s in page.layout.segments
            if not _garbage_over_print(s)
        ]
        scale = 1.0 if page.ocr_scale > 1.05 else self.scale
        regions = imaging.unread_regions(page.ocr_image, boxes, apart=True)
        crops = []
        for box in regions:
            crop = page.ocr_image.crop(box)
            crops.append(
                crop.resize(
                    (int(crop.width * scale), int(crop.height * scale)), Image.Resampling.LANCZOS
                )
            )
        texts = read_crops(ctx.engine, crops, lang=DEFAULT_LANG, psm=6)
        found = self._dates_alone(ctx, texts)
        ctx.steps.append(f"date in skipped regions: {sorted(found) or 'nothing'}")
        if not found and _hebrew_photo(ctx) and ctx.latin_engine is not None:
            texts = _read_by_latin_engine(ctx, crops)
            found = self._dates_alone(ctx, texts)
            ctx.steps.append(
                f"date in skipped regions, Latin engine: {sorted(found) or 'nothing'}"
            )
        if len(found) == 1:
            value = next(iter(found))
            ctx.date_box = next(
                (
                    box
                    for box, text in zip(regions, texts, strict=True)
                    if value in self._dates_alone(ctx, [text])
                ),
                None,
            )
        return found

    def _dates_alone(self, ctx: Context, texts: list[str]) -> set[str]:
        return self._dates(ctx, texts) or {
            # A region that is a date and nothing else, a separator lost ("2509/2025").
            d.value.isoformat()
            for text in texts
            for d in find_glued_dates(text)
            if d.value <= ctx.today and not re.sub(r"[\W_]", "", text[: d.start] + text[d.end :])
        }


class RereadDocNumber(BaseStep):
    """The document number's label was read but no number near it: the Hebrew model drops
    short numbers on photos. Read the label's row and the row under it again, enlarged, with
    the Latin model, and take the number printed under the label (right-to-left pages put
    it in the label's column, not first in the line)."""

    name = "reread_doc_number"
    scale = 2.0

    def applies(self, ctx: Context) -> bool:
        single = _one_page(ctx)
        reading = ctx.fields.get("doc_number")
        return single and reading is not None and reading.value is None

    def run(self, ctx: Context) -> None:
        page = ctx.pages[0]
        assert page.ocr_image is not None and page.layout is not None
        # A label that ends its segment heads a column ("מספר מסמך" over "37212"); a title
        # with words after it ("חשבונית מס / קבלה") does not.
        label = next((s for s in page.layout.segments if _bare_label(s.text)), None)
        if label is None:
            label = header_row_label(page.layout)
        if label is None:
            rows = ctx.header_rows or self._date_row(ctx, page)
            value = number_beside_date(rows, ctx.fields["date"].value)
            ctx.steps.append(f"doc_number beside the date in the header row: {value or 'none'}")
            reason = "number beside the date, header row re-read enlarged"
            if value is None:
                value = number_beside_date(
                    self._row_by_latin_engine(ctx, page), ctx.fields["date"].value
                )
                reason = "number beside the date, header row read by the Latin engine"
            if value:
                ctx.fields["doc_number"] = FieldReading(value, 0.5, reason)
            return
        image = page.ocr_image
        pad = (label.bottom - label.top) // 2 + 3
        top = max(0, label.top - pad)
        bottom = min(image.height, label.bottom + round(1.8 * page.layout.line_height) + pad)
        crop = image.crop((0, top, image.width, bottom))
        crop = crop.resize(
            (int(crop.width * self.scale), int(crop.height * self.scale)),
            Image.Resampling.LANCZOS,
        )
        words = read_crops_words(ctx.engine, [crop], lang="eng", psm=6)[0]
        value = number_under(words, label, top=top, scale=self.scale)
        ctx.steps.append(f"reread doc_number: {value or 'nothing'} under its label")
        if value:
            ctx.fields["doc_number"] = FieldReading(
                value, 0.6, "number label, the row under it re-read enlarged"
            )

    def _row_by_latin_engine(self, ctx: Context, page: Page) -> list[str]:
        """A Hebrew photo's header row, across the page, read by the Latin engine: where
        Tesseract's reads of the row gave the date alone, RapidOCR's gave "25/09/2025
        44757" (dev photos: 3 document numbers of 3, at 0.16 s a row)."""
        assert page.ocr_image is not None and page.layout is not None
        date_value = ctx.fields["date"].value
        if (
            not date_value
            or not _hebrew_photo(ctx)
            or ctx.latin_engine is None
            # A bank statement's or a payslip's row of dates has no document number.
            or ctx.kind not in VendorNumberInSkippedPrint.seller_numbered
        ):
            return []
        box = ctx.date_box
        if box is None:
            seg = _segment_dated(page.layout, date_value)
            if seg is None:
                return []
            box = (seg.left, seg.top, seg.right, seg.bottom)
        image, margin = page.ocr_image, (box[3] - box[1]) // 4
        row = image.crop(
            (0, max(0, box[1] - margin), image.width, min(image.height, box[3] + margin))
        )
        text = _read_by_latin_engine(ctx, [row])[0]
        ctx.steps.append(f"header row read by the Latin engine: {text!r}")
        return [text]

    def _date_row(self, ctx: Context, page: Page) -> list[str]:
        """No header row re-read (the date was read, its label was not): the row the date
        was read on, across the page, enlarged, with `eng`. A Hebrew header row prints the
        document number beside the date ("ies 15/12/2025" where 63164 is printed)."""
        assert page.ocr_image is not None and page.layout is not None
        date_value = ctx.fields["date"].value
        # Small print (a photo enlarged for OCR): a scan's header row is read as it is.
        if not date_value or not _hebrew_photo(ctx):
            return []
        seg = _segment_dated(page.layout, date_value)
        if seg is None:
            return []
        crop = _row_enlarged(page.ocr_image, seg, self.scale)
        return read_crops(ctx.engine, [crop], lang="eng", psm=6)


def _segment_dated(page_layout: layout.Layout, date_value: str) -> layout.Segment | None:
    """The page read's first segment holding the date `date_value` (ISO)."""
    return next((s for s in page_layout.segments if date_value in _dates_in(s.text)), None)


def _garbage_over_print(seg: layout.Segment) -> bool:
    """A segment far wider than its characters: the page read gave a line of small print one
    stray letter ("א" over a cheque's "תאריך: 28/06/2026"), which still counts as read."""
    characters = len(re.sub(r"[\W_]", "", seg.text))
    return seg.right - seg.left > 3 * (seg.bottom - seg.top) * max(1, characters)


def _enlarged(image: Image.Image, scale: float) -> Image.Image:
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.Resampling.LANCZOS)


def _bare_label(text: str) -> bool:
    strength, end = labels.label_strength(text, labels.DOC_NUMBER_LABELS)
    return strength > 0 and not re.sub(r"[\W_]", "", text[end:])


_HEBREW_WORD = re.compile(r"[\u05D0-\u05EA]{2,}")
_DATE_LABEL = (labels.DATE_LABELS, labels.NOT_DATE)


def header_row_label(page_layout: layout.Layout) -> layout.Segment | None:
    """The document number's label misread beyond matching ("ספ נוסנון", "מספר מגאזן"),
    told by its place: an invoice's header row puts it beside the date's label (and the
    buyer's), so the one other cell of words on the date label's row is taken for it."""
    for line in page_layout.lines():
        dated = [s for s in line if labels.label_strength(s.text, *_DATE_LABEL)[0]]
        if not dated:
            continue
        others = [
            s
            for s in line
            if s not in dated
            and not labels.CUSTOMER_LABELS.search(s.text)
            and _HEBREW_WORD.search(s.text)
            and not re.search(r"\d", s.text)
            and len(s.text.split()) <= 3
        ]
        if len(others) == 1:
            return others[0]
    return None


def _dates_in(text: str) -> set[str]:
    """The dates printed in `text`, also those with their separators lost ("0906/2026"):
    where the document's date is known, a glued one is that date, not a number."""
    return {d.value.isoformat() for d in (*find_dates(text), *find_glued_dates(text))}


def number_beside_date(rows: list[str], date_value: str | None) -> str | None:
    """The one number (not an id of nine digits, not a phone) on the line of a re-read header
    row that holds the document's date: the header row's values are number, date, buyer."""
    if not date_value:
        return None
    found = set()
    for text in rows:
        for line in text.splitlines():
            if date_value not in _dates_in(line):
                continue
            for token in line.split():
                digits_only = re.sub(r"\D", "", token)
                if _dates_in(token) or ids.PHONE.match(token) or len(digits_only) == 9:
                    continue
                for value, _, _ in fields.doc_number_reader(token):
                    if value.isdigit() and 3 <= len(value) <= 8:
                        found.add(value)
    return found.pop() if len(found) == 1 else None


def number_under(
    words: list[OcrWord], label: layout.Segment, *, top: int, scale: float
) -> str | None:
    """The document number among `words` (read from a crop of the page starting at `top`,
    enlarged by `scale`) that stands under `label`: below its bottom, overlapping its column."""
    below = []
    for word in words:
        left, right = word.left / scale, word.right / scale
        word_top = word.top / scale + top
        overlap = min(right, label.right) - max(left, label.left)
        if word_top < label.bottom - 2 or overlap <= 0:
            continue
        found = fields.doc_number_reader(word.text)
        if found:
            below.append((word_top, found[0][0]))
    return min(below)[1] if below else None


_AMOUNT_LABELS: dict[str, tuple[list[tuple[re.Pattern[str], float]], re.Pattern[str] | None]] = {
    "net": (labels.NET_LABELS, None),
    "vat": (labels.VAT_LABELS, labels.NOT_VAT),
    "total": (labels.TOTAL_LABELS, labels.NOT_TOTAL),
}


class RereadAmountRows(BaseStep):
    """A photo's totals box read with its labels but not its amounts (the page read skipped
    the column of figures): read each such label's row again across the page with `eng`,
    which reads figures, and take the one amount on it. Below 0.9 until the three add up at
    the date's VAT rate (the cross-check after this step)."""

    name = "reread_amount_rows"

    def applies(self, ctx: Context) -> bool:
        single = _one_page(ctx)
        return (
            single
            and ctx.pages[0].photo
            and ctx.hebrew
            and any(ctx.fields[n].value is None for n in _AMOUNT_LABELS)
        )

    def run(self, ctx: Context) -> None:
        page = ctx.pages[0]
        assert page.ocr_image is not None and page.layout is not None
        image = page.ocr_image
        rows: dict[str, layout.Segment] = {}
        for name, (patterns, exclude) in _AMOUNT_LABELS.items():
            if ctx.fields[name].value is not None:
                continue
            found = [
                s
                for s in page.layout.segments
                if labels.label_strength(s.text, patterns, exclude)[0] > 0
                and not fields.amount_reader(s.text)
            ]
            if found:
                rows[name] = max(
                    found, key=lambda s: labels.label_strength(s.text, patterns, exclude)[0]
                )
        if not rows:
            return
        crops = []
        for seg in rows.values():
            pad = (seg.bottom - seg.top) // 2 + 3
            crops.append(
                image.crop(
                    (0, max(0, seg.top - pad), image.width, min(image.height, seg.bottom + pad))
                )
            )
        texts = read_crops(ctx.engine, crops, lang=Ocr.digits_lang, psm=6)
        read = {}
        for name, text in zip(rows, texts, strict=True):
            amounts = {value for value, _, _ in fields.amount_reader(text)}
            ctx.amounts.extend(amounts)
            if len(amounts) == 1:
                read[name] = amounts.pop()
        ctx.steps.append(f"amount rows re-read with eng: {read or 'nothing'}")
        for name, value in read.items():
            ctx.fields[name] = FieldReading(
                format_amount(value), 0.6, f"{name} label's row, re-read with eng"
            )


class ChequeAmount(BaseStep):
    """A cheque prints its amount twice: in figures in a framed box, which Tesseract's layout
    analysis drops as a picture (6 of 15 dev cheque photos had no amount read), and in words
    after "סך של", which the Hebrew model reads well. With no amount read, the print the
    page's read skipped is read with `eng` for the figures; two readings that agree are
    sure, one alone is not."""

    name = "cheque_amount"
    agreeing = 0.9  # figures and words, read apart, give the same amount
    figures_alone = 0.6
    words_alone = 0.5
    disagreeing = 0.4

    def applies(self, ctx: Context) -> bool:
        total = ctx.fields.get("total")
        return (
            _one_page(ctx)
            and ctx.kind == DocumentKind.CHEQUE
            and total is not None
            and total.confidence < self.agreeing
        )

    def run(self, ctx: Context) -> None:
        assert ctx.layout is not None
        words = amount_in_hebrew_words(ctx.layout.text)
        total = ctx.fields["total"]
        if total.value is not None:
            ctx.steps.append(f"cheque amount in words: {words}")
            said = _words_say(words, Decimal(total.value))
            if said == "same":
                total.confidence = self.agreeing
                total.reason += ", the same in words"
            elif said == "other":
                total.confidence = min(total.confidence, self.disagreeing)
                total.reason += f", not the amount in words ({words})"
            return
        figures = self._in_skipped_print(ctx)
        ctx.steps.append(f"cheque amount in skipped print: {sorted(figures)}, in words: {words}")
        same = [f for f in figures if _words_say(words, f) == "same"]
        if len(same) == 1:
            reading = (same[0], self.agreeing, "amount in figures, in skipped print, and in words")
        elif len(figures) == 1:
            figure = next(iter(figures))
            other = _words_say(words, figure) == "other"
            conf = self.disagreeing if other else self.figures_alone
            reading = (figure, conf, "amount in figures, in print the page's read skipped")
        elif words is not None:
            reading = (words, self.words_alone, "amount in words")
        else:
            return
        value, conf, reason = reading
        ctx.fields["total"] = FieldReading(format_amount(value), conf, reason)

    def _in_skipped_print(self, ctx: Context) -> set[Decimal]:
        page = ctx.pages[0]
        assert page.ocr_image is not None and page.layout is not None
        crops = [page.ocr_image.crop(box) for box in _skipped_print(page, apart=True)]
        texts = read_crops(ctx.engine, crops, lang=Ocr.digits_lang, psm=6)
        return {value for text in texts for value, _, _ in fields.amount_reader(text) if value > 0}


def _words_say(words: Decimal | None, figure: Decimal) -> str:
    """ "same" when the amount in words is the figure; "" when it tells nothing (none read, or
    the figure's whole shekels of one with agorot, which the words parser leaves out);
    "other" when it is another amount."""
    if words is None:
        return ""
    if words == figure:
        return "same"
    if figure != figure.to_integral_value() and words == int(figure):
        return ""
    return "other"


_NOT_EXPENSES = {
    DocumentKind.PAYSLIP,
    DocumentKind.BANK_STATEMENT,
    DocumentKind.CHEQUE,
    DocumentKind.CARD_SLIP,
}


class AskForOriginal(BaseStep):
    """A Telegram photo (shrunk to 1280 px and compressed) with print too small to read well:
    the client can send the same picture as a file, at full size."""

    name = "ask_for_original"
    compressed_side = 1280
    small_text_px = 10.0  # letter height on the page; clean A4 scans measure 11-12
    poor_below = 0.6

    def applies(self, ctx: Context) -> bool:
        if len(ctx.pages) != 1 or ctx.mime_type not in ("image/jpeg", "image/jpg"):
            return False
        page = ctx.pages[0]
        return 0 < page.source_side <= self.compressed_side and (
            0 < page.text_px < self.small_text_px
        )

    def run(self, ctx: Context) -> None:
        if ctx.kind in _NOT_EXPENSES:
            return  # no total or document number to miss
        # Foreign documents carry no Israeli business number to miss.
        expected = [n for n in result.KEY_FIELDS if ctx.hebrew or n != "vendor_id"]
        poor = [
            name
            for name in expected
            if name not in ctx.fields
            or ctx.fields[name].value is None
            or ctx.fields[name].confidence < self.poor_below
        ]
        # Poorly read: no total, or two of the key fields missing or doubtful.
        if not ctx.fields or "total" in poor or len(poor) >= 2:
            ctx.steps.append(f"small print on a compressed photo, poorly read: {poor}")
            ctx.problem(result.SEND_AS_FILE)


class RecoverAllocation(BaseStep):
    """An allocation number is due but none was read: look in ink regions OCR skipped."""

    name = "recover_allocation"

    def applies(self, ctx: Context) -> bool:
        reading = ctx.fields.get("allocation_number")
        single = _one_page(ctx)
        # Also below the threshold: dealers often get a number anyway.
        return (
            single
            and reading is not None
            and reading.value is None
            and ctx.kind in crosscheck.ALLOCATION_KINDS
        )

    def run(self, ctx: Context) -> None:
        page = ctx.pages[0]
        assert page.ocr_image is not None and page.layout is not None
        found = _skipped_print(page)
        regions = [page.ocr_image.crop(box) for box in found]
        hebrew_photo = ctx.hebrew and page.photo
        lang = Ocr.hebrew_lang if hebrew_photo else DEFAULT_LANG
        texts = read_crops(ctx.engine, regions, lang=lang, psm=6)
        for (left, top, right, bottom), region, text in zip(found, regions, texts, strict=True):
            text = normalise(text)
            if not labels.ALLOCATION_LABELS.search(text):
                continue
            numbers = [n for n, _ in nine_digit_numbers(text)]
            if hebrew_photo:
                # The label from the Hebrew model, the digits from the one that reads them
                # (the Hebrew model read the box's 0 as 9: 915492091 as 915492991).
                again = read_crops(ctx.engine, [region], lang=Ocr.digits_lang, psm=6)[0]
                numbers = [n for n, _ in nine_digit_numbers(again)] or numbers
            ctx.steps.append(f"allocation label found in a skipped region: {numbers}")
            if len(numbers) != 1:
                return
            value, reason = numbers[0], "allocation label, in a framed box OCR first skipped"
            if hebrew_photo and page.ocr_scale > 1.05:
                # Its 0s filled by blur as on the page's own line (RereadAllocation).
                box = layout.Segment("", 0, left=left, top=top, right=right, bottom=bottom)
                reads = _numbers_read_three_ways(ctx.engine, page.ocr_image, box, sheets=1)
                restored = ids.zeros_restored(value, reads)
                ctx.steps.append(f"reread allocation: {value} -> {restored}")
                if restored != value:
                    value, reason = restored, reason + ", a 0 read as 6, 8 or 9 put back"
            ctx.fields["allocation_number"] = FieldReading(value, 0.8, reason)
            return


class CrossCheck(BaseStep):
    name = "cross_check"

    def applies(self, ctx: Context) -> bool:
        return bool(ctx.fields)

    def run(self, ctx: Context) -> None:
        assert ctx.layout is not None
        israeli = ctx.hebrew or ctx.fields["currency"].value == "ILS"
        crosscheck.check_credit_note(ctx.fields, ctx.kind)
        crosscheck.check_amounts(ctx.fields, ctx.amounts, israeli=israeli)
        crosscheck.check_credit_note(ctx.fields, ctx.kind)
        crosscheck.check_allocation(
            ctx.fields,
            ctx.kind,
            text_layer=ctx.text_layer,
            label_printed=bool(labels.ALLOCATION_LABELS.search(ctx.layout.text)),
        )
        if ctx.text_layer:
            _trust_text_layer(ctx)


def _trust_text_layer(ctx: Context) -> None:
    """A text layer has no misread characters: only the choice of value can be wrong."""
    for name in ("doc_number", "vendor_id", "customer_id", "allocation_number"):
        reading = ctx.fields[name]
        trusted = "label" in reading.reason or "check digit ok" in reading.reason
        if reading.value is not None and trusted:
            reading.confidence = round(min(0.97, reading.confidence + 0.1), 3)


def default_steps() -> list[Step]:
    return [
        LoadPdf(),
        LoadText(),
        LoadImage(),
        RejectUnknownType(),
        FindPage(),
        CheckQuality(),
        Deskew(),
        Fingerprint(),
        Ocr(),
        LayOut(),
        DetectSeveral(),
        Classify(),
        ReadFields(),
        FindVendorNumber(),
        FindCustomerNumber(),
        VendorNumberUnderItsName(),
        VendorNumberInSkippedPrint(),
        RereadNumbers(),
        CustomerNumberInSkippedPrint(),
        RereadAllocation(),
        RereadDate(),
        RereadDocNumber(),
        RereadAmountRows(),
        ChequeAmount(),
        CrossCheck(),
        RereadTotal(),
        RecoverAllocation(),
        AskForOriginal(),
    ]
