"""Image loading, quality measures, orientation and clean-up for OCR (Pillow, numpy, OpenCV)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.reading.pipeline import ReadLimits

# A phone photo is about 12 Mpx; anything far above is a scan at silly DPI or a bomb.
MAX_SIDE = 3000
WORK_SIDE = 800  # quality measures run on a copy this size
SKEW_SIDE = 1400  # skew needs the lines of small receipt print resolved


class ImageTooLarge(Exception):
    pass


class NotAnImage(Exception):
    pass


def load_image(data: bytes) -> Image.Image:
    """Decoded, EXIF-rotated, RGB, at most MAX_SIDE pixels on a side (the first frame)."""
    images, _ = load_pages(data, ReadLimits(max_pages=1))
    return images[0]


def load_pages(data: bytes, limits: ReadLimits) -> tuple[list[Image.Image], int]:
    """The first `limits.max_pages` frames (a multi-page TIFF) and how many the file has.

    Sizes are checked from the header before anything is decoded: a 4 kB PNG can declare
    20000x20000 pixels (1.6 GB decoded). A JPEG is decoded at a reduced scale when large.
    """
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x MAX_IMAGE_PIXELS: treat it as the error it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            total = int(getattr(image, "n_frames", 1) or 1)
            count = min(total, limits.max_pages)
            budget = min(limits.max_page_pixels, limits.max_document_pixels // max(count, 1))
            pages = []
            for index in range(count):
                image.seek(index)
                pages.append(_decode(image, limits, budget))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageTooLarge(str(error)) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise NotAnImage(str(error)) from error
    return pages, total


def _decode(image: Image.Image, limits: ReadLimits, budget: int) -> Image.Image:
    """One frame as RGB within MAX_SIDE and `budget` pixels (the pages share a budget)."""
    if image.format == "JPEG" and image.width * image.height > limits.max_page_pixels:
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: the full size never exists.
        factor = (limits.max_page_pixels / (image.width * image.height)) ** 0.5
        image.draft("RGB", (max(1, int(image.width * factor)), max(1, int(image.height * factor))))
    if image.width * image.height > limits.max_image_pixels:
        raise ImageTooLarge(f"{image.width}x{image.height} pixels")
    image.load()
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(background, image)
    image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    if image.width * image.height > budget:
        factor = (budget / (image.width * image.height)) ** 0.5
        image.thumbnail(
            (int(image.width * factor), int(image.height * factor)), Image.Resampling.LANCZOS
        )
    return image


def to_gray(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"))


def small_gray(image: Image.Image, side: int = WORK_SIDE) -> np.ndarray:
    gray = to_gray(image)
    scale = side / max(gray.shape)
    if scale < 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return gray


@dataclass(frozen=True)
class Quality:
    brightness: float  # mean grey level 0..255
    contrast: float  # standard deviation of grey levels
    sharpness: float  # variance of the Laplacian at WORK_SIDE, higher is sharper
    ink: float  # share of pixels darker than the local background


def measure(image: Image.Image) -> Quality:
    gray = small_gray(image)
    background = cv2.medianBlur(gray, 31)
    ink = float(np.mean(gray.astype(np.int16) < background.astype(np.int16) - 40))
    return Quality(
        brightness=float(gray.mean()),
        contrast=float(gray.std()),
        sharpness=float(cv2.Laplacian(gray, cv2.CV_64F).var()),
        ink=ink,
    )


def _text_points(gray: np.ndarray, limit: int = 30_000) -> np.ndarray:
    """Coordinates of ink pixels (dark on the local background), centred."""
    background = cv2.medianBlur(gray, 31)
    ink = gray.astype(np.int16) < background.astype(np.int16) - 30
    ys, xs = np.nonzero(ink)
    points = np.stack([xs, ys], axis=1).astype(np.float32)
    if len(points) > limit:
        points = points[np.random.default_rng(0).choice(len(points), limit, replace=False)]
    return points - points.mean(axis=0) if len(points) else points


def _profile_score(points: np.ndarray, degrees: float) -> float:
    """How peaky the ink is along lines tilted by `degrees`: text lines give sharp peaks."""
    theta = np.deg2rad(degrees)
    projected = points[:, 1] * np.cos(theta) - points[:, 0] * np.sin(theta)
    counts = np.bincount((projected - projected.min()).astype(np.int64))
    # Sum of squares grows as the ink's extent shrinks; times the extent, a flat profile is 1.
    occupied = np.count_nonzero(counts)
    return float(np.sum(counts.astype(np.float64) ** 2)) * occupied / max(1, len(points)) ** 2


def estimate_skew(image: Image.Image, *, limit: float = 15.0) -> tuple[float, float]:
    """(degrees to rotate counter-clockwise so text lines are level, peak over level score)."""
    points = _text_points(small_gray(image, SKEW_SIDE), limit=60_000)
    if len(points) < 200:
        return 0.0, 0.0
    coarse = [a / 2 for a in range(int(-2 * limit), int(2 * limit) + 1)]
    scores = {a: _profile_score(points, a) for a in coarse}
    best = max(scores, key=lambda a: scores[a])
    fine = [best + step / 10 for step in range(-5, 6)]
    scores.update({a: _profile_score(points, a) for a in fine})
    best = max(fine, key=lambda a: scores[a])
    if abs(best) > limit - 1:
        # A peak at the edge of the search is no peak: big print or a logo pulled the profile
        # there (a straight SROIE receipt was turned 15.5 degrees and lost all its text).
        return 0.0, 1.0
    return best, scores[best] / max(1e-12, scores[0.0])


def level_sharpness(image: Image.Image, *, limit: float = 15.0) -> float:
    """How sharply the ink falls into level lines at the best small angle (not a ratio: the
    same page turned 90 degrees can be compared with it)."""
    points = _text_points(small_gray(image, SKEW_SIDE), limit=60_000)
    if len(points) < 200:
        return 0.0
    return max(_profile_score(points, a / 2) for a in range(int(-2 * limit), int(2 * limit) + 1))


def rotate(image: Image.Image, degrees: float) -> Image.Image:
    if abs(degrees) < 1e-6:
        return image
    if abs(degrees % 90) < 1e-6:
        return image.rotate(degrees, expand=True)
    white = 255 if image.mode == "L" else (255, 255, 255)
    return image.rotate(degrees, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=white)


def component_boxes(binary: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x, y, width, height) of the 8-connected components of a binary picture.

    Each component has one outer contour, and its box is the component's: the same boxes as
    `cv2.connectedComponentsWithStats`, which also labels every pixel and took 16-33 ms on
    an enlarged photo against 1-1.4 ms here (checked equal on the dev photos)."""
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    # RETR_CCOMP: outer contours have no parent, holes have one (a component inside a hole
    # is an outer contour again, with no parent).
    boxes = []
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        if parent == -1:
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append((int(x), int(y), int(w), int(h)))
    return boxes


def text_height(image: Image.Image) -> float:
    """Median height of ink blobs in pixels of the full image: tells if upscaling pays."""
    gray = to_gray(image)
    scale = min(1.0, 1600 / max(gray.shape))
    if scale < 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    heights = np.array([h for _, _, _, h in component_boxes(binary)])
    heights = heights[(heights > 3) & (heights < 200)]
    return float(np.median(heights)) / scale if len(heights) else 0.0


def paper_unevenness(image: Image.Image) -> float:
    """How much the paper's brightness varies across the picture: 0 for a scan, 0.3+ for a
    photo lit from one side."""
    gray = small_gray(image, 400).astype(np.float32)
    paper = cv2.GaussianBlur(cv2.dilate(gray, np.ones((5, 5), np.uint8)), (0, 0), sigmaX=10)
    low, high = np.percentile(paper, [5, 95])
    return float((high - low) / max(high, 1.0))


def unread_regions(
    image: Image.Image,
    read_boxes: list[tuple[int, int, int, int]],
    *,
    limit: int = 4,
    apart: bool = False,
    heights: tuple[int, int] = (15, 200),
) -> list[tuple[int, int, int, int]]:
    """Boxes of ink that OCR returned no words for (Tesseract's layout analysis drops framed
    or shaded boxes as pictures), largest first. With `apart`, the read words' ink is taken
    out first, so a small line printed close under a read one (a cheque's date under its
    number) is a region of its own instead of part of one mostly read. `heights`: the
    regions' smallest and largest height in pixels (a line of print by default)."""
    gray = np.asarray(image.convert("L"))
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    covered = np.zeros_like(binary)
    for left, top, right, bottom in read_boxes:
        covered[top:bottom, left:right] = 1
    if apart:
        binary = np.where(covered > 0, 0, binary).astype(binary.dtype)
    merged = cv2.dilate(binary, np.ones((9, 31), np.uint8))
    found = []
    for x, y, w, h in component_boxes(merged):
        if not (heights[0] <= h <= heights[1] and w >= 100):
            continue
        ink = binary[y : y + h, x : x + w] > 0
        if ink.sum() and (covered[y : y + h, x : x + w][ink]).mean() < 0.2:
            found.append((int(x), int(y), int(x + w), int(y + h)))
    return sorted(found, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)[:limit]


def flatten_background(gray: Image.Image) -> Image.Image:
    """Divide by the paper's own brightness so shade and uneven light do not reach Tesseract's
    global threshold (which drops whole shaded regions otherwise)."""
    pixels = np.asarray(gray).astype(np.float32)
    kernel = np.ones((7, 7), np.uint8)
    dilated = cv2.dilate(pixels, kernel)
    # The paper's brightness is smooth (sigma 25 px): blurred at a quarter of the size and
    # enlarged back it is the same to a grey level, in a tenth of the time.
    height, width = dilated.shape
    small = cv2.resize(
        dilated, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA
    )
    paper = cv2.resize(
        cv2.GaussianBlur(small, (0, 0), sigmaX=25 / 4),
        (width, height),
        interpolation=cv2.INTER_LINEAR,
    )
    flat = np.clip(pixels / np.maximum(paper, 1.0) * 255.0, 0, 255).astype(np.uint8)
    return Image.fromarray(flat)


def densest_band(image: Image.Image, height: int) -> tuple[int, int, int, int]:
    """The full-width strip `height` pixels tall that holds the most ink: a sample of the
    page's text for a quick look (which script it is printed in)."""
    gray = to_gray(image)
    _, binary = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    rows = binary.sum(axis=1).astype(np.float64)
    height = max(1, min(height, len(rows)))
    window = np.convolve(rows, np.ones(height), mode="valid")
    top = int(np.argmax(window))
    return 0, top, image.width, top + height


def binarise(image: Image.Image) -> Image.Image:
    """Black ink on white by each pixel's neighbourhood: coloured print on grey paper
    photographed on a dark table defeats Tesseract's one global threshold."""
    gray = np.asarray(image.convert("L"))
    block = max(15, (min(gray.shape) // 40) | 1)
    return Image.fromarray(
        cv2.adaptiveThreshold(
            gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 15
        )
    )


MAX_OCR_PIXELS = 9_000_000  # upscaling stops here: Tesseract's time grows with the area


def prepare_for_ocr(
    image: Image.Image,
    *,
    min_text_height: float,
    target_text_height: float,
    flatten: bool = True,
    height: float | None = None,
    flattened: Image.Image | None = None,
) -> tuple[Image.Image, list[str]]:
    """Greyscale, background flattened (or `flattened`, done already), upscaled when the
    letters are too small."""
    notes: list[str] = []
    gray = image.convert("L")
    if flatten:
        gray = flattened if flattened is not None else flatten_background(gray)
        notes.append("flattened background")
    if height is None:
        height = text_height(image) if min_text_height > 0 else 0.0
    if 0 < height < min_text_height:
        factor = min(
            3.0, target_text_height / height, (MAX_OCR_PIXELS / (gray.width * gray.height)) ** 0.5
        )
        if factor > 1.05:
            gray = gray.resize(
                (round(gray.width * factor), round(gray.height * factor)), Image.Resampling.LANCZOS
            )
            notes.append(f"upscaled x{factor:.1f}")
    return gray, notes


@dataclass(frozen=True)
class PageOutline:
    corners: np.ndarray  # 4 x 2 float32, full-image pixels: top-left, top-right, bottom-right,
    # bottom-left
    area_share: float  # of the picture
    contrast: float  # paper brightness over the background's, grey levels


OUTLINE_SIDE = 600  # outline search runs on a copy this size


def _order_corners(points: np.ndarray) -> np.ndarray:
    by_sum = points.sum(axis=1)
    by_diff = np.diff(points, axis=1).ravel()
    return np.array(
        [
            points[np.argmin(by_sum)],
            points[np.argmin(by_diff)],
            points[np.argmax(by_sum)],
            points[np.argmax(by_diff)],
        ],
        np.float32,
    )


def _quad(contour: np.ndarray) -> np.ndarray | None:
    """Four corners of a page-shaped contour: a polygon simplified to four points, else the
    smallest rectangle around it (a crumpled receipt has no straight edges)."""
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for epsilon in (0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, epsilon * perimeter, True)
        if len(approx) == 4:
            quad = approx.reshape(4, 2).astype(np.float32)
            # The quadrilateral must cover its hull: else a corner was cut off.
            if cv2.contourArea(quad) >= 0.9 * cv2.contourArea(hull):
                return quad
    return cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32)


def _angles_ok(quad: np.ndarray, low: float = 55.0, high: float = 125.0) -> bool:
    """A sheet seen at an angle keeps its corners roughly square; a quadrilateral cut from
    the paper and a patch of table has a very sharp or very blunt corner."""
    ordered = _order_corners(quad)
    for i in range(4):
        a, b, c = ordered[i - 1], ordered[i], ordered[(i + 1) % 4]
        u, v = a - b, c - b
        norm = float(np.linalg.norm(u) * np.linalg.norm(v))
        if norm == 0:
            return False
        angle = np.degrees(np.arccos(np.clip(float(u @ v) / norm, -1, 1)))
        if not low <= angle <= high:
            return False
    return True


def _edge_contrast(gray: np.ndarray, quad: np.ndarray, width: int = 7) -> float:
    """How much brighter the page is just inside its outline than the table just outside."""
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(inside, quad.astype(np.int32), 1)
    kernel = np.ones((width, width), np.uint8)
    inner = inside - cv2.erode(inside, kernel)
    outer = cv2.dilate(inside, kernel) - inside
    if not inner.any() or not outer.any():
        return 0.0
    # Inside, the brighter half is paper (text lines touch the edge of receipts).
    return float(np.percentile(gray[inner > 0], 75) - np.median(gray[outer > 0]))


def _page_candidates(small: np.ndarray, gray: np.ndarray) -> list[np.ndarray]:
    """Outlines from two views: bright low-colour regions (paper on a dark or coloured
    table) and closed edges (paper on a light table)."""
    found = []
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    paperness = hsv[..., 2].astype(np.float32) - 0.6 * hsv[..., 1].astype(np.float32)
    paperness = cv2.GaussianBlur(paperness, (0, 0), 2)
    closed = cv2.morphologyEx(paperness, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    _, mask = cv2.threshold(
        closed.clip(0, 255).astype(np.uint8), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU
    )
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found += sorted(contours, key=cv2.contourArea, reverse=True)[:2]
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 20, 60)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=2)
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found += sorted(contours, key=cv2.contourArea, reverse=True)[:4]
    quads = []
    for contour in found:
        quad = _quad(contour)
        if quad is not None:
            quads.append(quad)
    return quads


def find_page(
    image: Image.Image,
    *,
    min_share: float = 0.15,
    max_share: float = 0.93,
    min_contrast: float = 25.0,
) -> PageOutline | None:
    """The sheet of paper in a photo: the largest square-cornered outline that is clearly
    brighter inside than out. None for a scan or screenshot (the page fills the picture) or
    when nothing stands out clearly enough to crop safely."""
    rgb = np.asarray(image.convert("RGB"))
    scale = min(1.0, OUTLINE_SIDE / max(rgb.shape[:2]))
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    total = float(small.shape[0] * small.shape[1])
    valid: list[tuple[float, np.ndarray, float]] = []
    for quad in _page_candidates(small, gray):
        share = cv2.contourArea(quad) / total
        if not min_share * 0.5 <= share <= max_share or not _angles_ok(quad):
            continue
        contrast = _edge_contrast(gray.astype(np.float32), quad)
        if contrast >= min_contrast:
            valid.append((share, quad, contrast))
    pages = [v for v in valid if v[0] >= min_share]
    if not pages:
        return None
    # The paper-colour outline comes first; an edge outline must be clearly larger to win
    # (it may hold the page's own shadow).
    share, quad, contrast = pages[0]
    for candidate in pages[1:]:
        if candidate[0] > share * 1.05:
            share, quad, contrast = candidate
    if _another_page(gray.shape, quad, share, [v[1] for v in valid if v[0] >= 0.4 * share]):
        return None  # two documents side by side: read the whole picture, they are asked apart
    return PageOutline(_order_corners(quad / scale), round(share, 3), round(contrast, 1))


def _another_page(
    shape: tuple[int, ...], page: np.ndarray, share: float, others: list[np.ndarray]
) -> bool:
    """True when another sizeable paper-like outline lies mostly outside `page`."""
    inside = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, page.astype(np.int32), 1)
    for other in others:
        mask = np.zeros(shape[:2], np.uint8)
        cv2.fillConvexPoly(mask, other.astype(np.int32), 1)
        area = int(mask.sum())
        if area and (mask & inside).sum() < 0.3 * area:
            return True
    return False


def crop_page(image: Image.Image, outline: PageOutline) -> Image.Image:
    """The page alone, seen from straight above: perspective undone, background cut away."""
    tl, tr, br, bl = outline.corners
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.array(
        [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32
    )
    matrix = cv2.getPerspectiveTransform(outline.corners, target)
    warped = cv2.warpPerspective(
        np.asarray(image.convert("RGB")),
        matrix,
        (width, height),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return Image.fromarray(warped)


INK_SIDE = 1000  # the ink box is found on a copy this size


def ink_box(
    image: Image.Image, *, stroke: int = 7, darker: int = 30, min_area: int = 8, pad: float = 0.04
) -> tuple[int, int, int, int] | None:
    """The box around the print on a picture, `pad` of its longest side added on each side;
    None when there is none.

    Print is dark strokes thinner than `stroke` pixels at INK_SIDE (a morphological black-hat):
    a page's edge against a darker table, a shadow or uneven light are wide dark regions, not
    strokes, so the box holds the text and not the paper's outline (a median-background test
    counted the edge of a page filling the frame as ink and boxed the whole picture)."""
    gray = small_gray(image, INK_SIDE)
    shape = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (stroke, stroke))
    strokes = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, shape) > darker
    _, _, stats, _ = cv2.connectedComponentsWithStats(strokes.astype(np.uint8), connectivity=8)
    blobs = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= min_area]  # specks of noise are smaller
    if not len(blobs):
        return None
    margin = pad * max(gray.shape)
    scale = image.height / gray.shape[0]
    left = max(0.0, blobs[:, 0].min() - margin) * scale
    top = max(0.0, blobs[:, 1].min() - margin) * scale
    right = min(float(gray.shape[1]), (blobs[:, 0] + blobs[:, 2]).max() + margin) * scale
    bottom = min(float(gray.shape[0]), (blobs[:, 1] + blobs[:, 3]).max() + margin) * scale
    return (
        round(left),
        round(top),
        min(image.width, round(right)),
        min(image.height, round(bottom)),
    )


def plain_paper_around(
    image: Image.Image, box: tuple[int, int, int, int], *, darker: float = 15.0
) -> bool:
    """True when all of the picture outside `box` is as bright as the paper inside it: a
    scan's margins, not a table or a page's shadowed edge around the print."""
    gray = small_gray(image, 400).astype(np.float32)
    scale = gray.shape[0] / image.height
    left, top, right, bottom = (round(v * scale) for v in box)
    outside = np.ones(gray.shape, bool)
    outside[top:bottom, left:right] = False
    if not outside.any() or outside.all():
        return True
    paper = float(np.median(gray[~outside]))
    return float(np.percentile(gray[outside], 5)) >= paper - darker


def ink_band(image: Image.Image, height: int) -> tuple[int, int, int, int]:
    """Like `densest_band`, but ink is what is darker than its own surroundings, so a dark
    table or a shadow at the page's edge does not count as text."""
    gray = to_gray(image)
    background = cv2.medianBlur(gray, 31)
    ink = (gray.astype(np.int16) < background.astype(np.int16) - 30).astype(np.float64)
    rows = ink.sum(axis=1)
    height = max(1, min(height, len(rows)))
    window = np.convolve(rows, np.ones(height), mode="valid")
    top = int(np.argmax(window))
    return 0, top, image.width, top + height
