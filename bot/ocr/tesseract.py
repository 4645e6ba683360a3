"""`core.reading.OcrEngine` on Tesseract: one TSV result gives words and boxes.

Two ways to run the same Tesseract. pytesseract starts the `tesseract` command for every
read, and every start loads the models again: 0.15 s of processor time for `eng`, 0.3 s for
`Hebrew+eng`, as much as reading a receipt's lines, and a photo is read three to five times
(script probe, page, re-read lines). `tesserocr` (a wheel that carries its own libtesseract)
keeps one loaded API per language in the reading process, so a read costs only the reading.
It is used when installed and the system's language files are found; else pytesseract.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import pytesseract
from PIL import Image

from core.reading.ports import DEFAULT_LANG, OcrText, OcrWord

# One thread per process: parallelise across processes (measured 6x faster on 2 cores).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

try:  # optional: the in-process API
    import tesserocr
except ImportError:  # pragma: no cover - depends on the environment
    tesserocr = None

TSV_HEADER = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\t"
    "left\ttop\twidth\theight\tconf\ttext\n"
)
_TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)


def tessdata_dir() -> str | None:
    """The folder of the system's language files (the ones the `tesseract` command uses)."""
    candidates = [os.environ.get("TESSDATA_PREFIX", ""), *_TESSDATA_DIRS]
    for folder in candidates:
        if folder and (Path(folder) / "eng.traineddata").is_file():
            return folder
    return None


def in_process_available() -> bool:
    """tesserocr installed, the language files found, and not turned off with
    TAYUK_TESSERACT_IN_PROCESS=0 (to compare, or should the wheel misbehave somewhere)."""
    wanted = os.environ.get("TAYUK_TESSERACT_IN_PROCESS", "1") != "0"
    return wanted and tesserocr is not None and tessdata_dir() is not None


# Whole pages (automatic layout analysis) stay with the command by default: the wheel's
# libtesseract (5.5) lost the header row of a table ("מספר מסמך  תאריך  לכבוד") on clean
# il-synthetic scans that the system's 5.3 reads (document number 1.00 -> 0.62), whatever
# resolution it was given. Crops, strips and lines (psm 6 and 7) read the same in both.
PAGE_PSM = 3


class TesseractEngine:
    """`in_process`: None picks the in-process API when it is available; `pages_in_process`
    sends whole-page reads there too."""

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        extra_config: str = "",
        in_process: bool | None = None,
        pages_in_process: bool = False,
    ) -> None:
        self.timeout = timeout
        self.extra_config = extra_config
        self.pages_in_process = pages_in_process
        if in_process is None:
            in_process = in_process_available() and not extra_config
        self.in_process = in_process
        self._apis: dict[str, Any] = {}  # language -> loaded tesserocr API

    def for_photo_pages(self) -> TesseractEngine | None:
        """The same loaded models, whole pages read in process too: for photographed pages
        (`read_document(photo_engine=...)`), where the wheel's Tesseract 5.5 read the
        benchmark's phone photos better than 5.3 and 0.2 s sooner. None without the API."""
        if not self.in_process:
            return None
        twin = TesseractEngine(
            timeout=self.timeout, extra_config=self.extra_config, pages_in_process=True
        )
        twin.in_process = True
        twin._apis = self._apis
        return twin

    @property
    def name(self) -> str:
        return "tesseract (in process)" if self.in_process else "tesseract"

    def _api(self, lang: str) -> Any:
        api = self._apis.get(lang)
        if api is None:
            assert tesserocr is not None
            api = tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang=lang)
            self._apis[lang] = api
        return api

    def load(self, langs: tuple[str, ...]) -> None:
        """Load these languages' models now rather than on the first read (in process only:
        the command loads them on every read)."""
        if self.in_process:
            for lang in langs:
                self._api(lang)

    def _read_in_process(self, image: Image.Image, lang: str, psm: int) -> str:
        api = self._api(lang)
        api.SetPageSegMode(psm)
        # Raw pixels, no resolution: what the command gets from pytesseract's PNG. tesserocr's
        # own SetImage passes a picture without a format as BMP, whose 96 dpi changed the
        # page's segmentation (a receipt's column of amounts lost).
        dpi = image.info.get("dpi")
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        depth = 1 if image.mode == "L" else 3
        api.SetImageBytes(image.tobytes(), image.width, image.height, depth, depth * image.width)
        if dpi:  # pytesseract saves the picture with its info: a JPEG's resolution goes along
            api.SetSourceResolution(round(float(dpi[1])))
        if not api.Recognize(timeout=int(self.timeout * 1000)):
            api.Clear()
            raise RuntimeError("Tesseract process timeout")  # as pytesseract says it
        tsv = str(api.GetTSVText(0))
        api.Clear()
        return TSV_HEADER + tsv

    def close(self) -> None:
        for api in self._apis.values():
            api.End()
        self._apis.clear()

    def image_to_text(
        self, image: Image.Image, *, lang: str = DEFAULT_LANG, psm: int = 3
    ) -> OcrText:
        os.environ["OMP_THREAD_LIMIT"] = "1"
        if self.in_process and (psm != PAGE_PSM or self.pages_in_process):
            return parse_tsv(self._read_in_process(image, lang, psm))
        tsv = pytesseract.image_to_data(
            _for_the_command(image),
            lang=lang,
            config=f"--psm {psm} {self.extra_config}".strip(),
            timeout=self.timeout,
        )
        return parse_tsv(tsv)

    def orientation(self, image: Image.Image) -> tuple[int, float] | None:
        os.environ["OMP_THREAD_LIMIT"] = "1"
        try:
            osd = pytesseract.image_to_osd(
                _for_the_command(image), config="--psm 0", timeout=self.timeout
            )
        except pytesseract.TesseractError:
            return None  # too few characters to tell
        rotate = re.search(r"Rotate: (\d+)", osd)
        confidence = re.search(r"Orientation confidence: ([\d.]+)", osd)
        if not rotate or not confidence:
            return None
        # Tesseract's "Rotate" is clockwise; Pillow rotates counter-clockwise.
        return (-int(rotate.group(1))) % 360, float(confidence.group(1))

    def image_to_string(
        self, image: Image.Image, *, lang: str = DEFAULT_LANG, psm: int = 3
    ) -> str:
        """Bare Tesseract text, for comparisons in the benchmark: always the `tesseract`
        command, as a user runs it, whichever way the pipeline reads."""
        os.environ["OMP_THREAD_LIMIT"] = "1"
        return str(
            pytesseract.image_to_string(
                image, lang=lang, config=f"--psm {psm}", timeout=self.timeout
            )
        )


def _for_the_command(image: Image.Image) -> Image.Image:
    """The picture as the `tesseract` command is given it: in a PNM file, not pytesseract's
    PNG. The same pixels and, either way, no resolution; but PNG's compression of a photo's
    page enlarged for OCR took 0.26 s, for an orientation check that then took 0.35 s. A
    file's own encoding (a JPEG as received, its resolution with it) is left as it is."""
    if image.format is not None or image.mode not in ("L", "RGB"):
        return image
    copy = image.copy()  # not the caller's picture: its format says what it was read from
    copy.format = "PPM"  # Pillow writes grey pictures as PGM under this name
    return copy


def parse_tsv(tsv: str) -> OcrText:
    words: list[OcrWord] = []
    reader = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        words.append(
            OcrWord(
                text=text,
                left=int(row["left"]),
                top=int(row["top"]),
                width=int(row["width"]),
                height=int(row["height"]),
                conf=float(row["conf"]),
                line_key=(
                    int(row["page_num"]),
                    int(row["block_num"]),
                    int(row["par_num"]),
                    int(row["line_num"]),
                ),
            )
        )
    return OcrText(words)
