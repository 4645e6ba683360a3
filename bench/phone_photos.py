"""Phone photos of labelled documents, as clients send them through Telegram.

    .venv/bin/python bench/phone_photos.py SRC_DIR [SRC_DIR...] --out DIR [--seeds 1 2]
        [--limit N]

Each labelled page (the label's image, else its PDF's first page at 150 dpi) is laid on a
table (wood, fabric, a dark car seat, a desk), turned a little, seen at an angle, lit
unevenly with a soft shadow across it, sometimes crumpled, blurred, with sensor noise,
saved as the phone's JPEG, then shrunk by Telegram to 1280 px on its longest side and
compressed again. Deterministic: the same seed and file give the same photo, whatever else
is made beside it (`--limit N` makes N photos per folder, evenly spread, on a busy machine).

Writes DIR/<source folder>-phone/<name>-s<seed>.jpg with a copy of the label beside it, so
`bench/extraction.py DIR/*-phone` scores them like the clean sets.
"""

from __future__ import annotations

import argparse
import io
import json
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

TELEGRAM_SIDE = 1280  # Telegram's compressed photo: longest side
CAMERA_SIDE = 2600  # the picture is composed this large, then shrunk like the phone's upload


@dataclass(frozen=True)
class Shot:
    background: str
    page_share: float  # page height over frame height (portrait frame)
    rotation: float  # degrees
    corner_jitter: float  # share of the page size each corner moves (perspective)
    light_low: float  # brightness at the dim side of the light gradient
    light_angle: float
    shadow: float  # 0 none, else darkness of the soft shadow
    crumple: float  # amplitude of the paper's waves in pixels at camera size
    blur: float  # Gaussian sigma at camera size
    noise: float
    phone_quality: int
    telegram_quality: int


def plan(rng: np.random.Generator) -> Shot:
    return Shot(
        background=str(rng.choice(["wood", "fabric", "dark", "desk", "stone"])),
        page_share=float(rng.uniform(0.72, 0.95)),
        rotation=float(np.clip(rng.normal(0, 4.0), -12, 12)),
        corner_jitter=float(rng.uniform(0.0, 0.07)),
        light_low=float(rng.uniform(0.55, 0.95)),
        light_angle=float(rng.uniform(0, 2 * np.pi)),
        shadow=float(rng.choice([0.0, rng.uniform(0.15, 0.4)], p=[0.5, 0.5])),
        crumple=float(rng.choice([0.0, rng.uniform(2, 9)], p=[0.75, 0.25])),
        blur=float(rng.uniform(0.4, 1.6)),
        noise=float(rng.uniform(1.5, 6.0)),
        phone_quality=int(rng.integers(75, 93)),
        telegram_quality=int(rng.integers(72, 88)),
    )


def _background(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """An RGB float table surface."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 3)
    if kind == "wood":
        grain = np.sin(x / rng.uniform(9, 25) + 4 * np.sin(y / rng.uniform(120, 300))) * 18
        base = np.array(rng.uniform([120, 70, 30], [185, 120, 70]), np.float32)
        surface = base[None, None, :] + (grain + noise * 10)[..., None]
    elif kind == "fabric":
        weave = (np.sin(x / 2.1) * np.sin(y / 2.1)) * 14
        base = np.array(rng.uniform([40, 40, 60], [110, 120, 160]), np.float32)
        surface = base[None, None, :] + (weave + noise * 12)[..., None]
    elif kind == "dark":
        base = np.array(rng.uniform([15, 15, 15], [50, 45, 45]), np.float32)
        surface = base[None, None, :] + (noise * 8)[..., None]
    elif kind == "stone":
        blotch = (
            cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 25)
            * 200
        )
        base = np.array(rng.uniform([150, 150, 145], [215, 210, 205]), np.float32)
        surface = base[None, None, :] + (blotch + noise * 10)[..., None]
    else:  # a light desk, barely darker than paper: the hard case for finding the page
        base = np.array(rng.uniform([185, 185, 180], [230, 225, 220]), np.float32)
        surface = base[None, None, :] + (noise * 5)[..., None]
    return surface


def _lighting(height: int, width: int, shot: Shot, rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    along = (x / width - 0.5) * np.cos(shot.light_angle) + (y / height - 0.5) * np.sin(
        shot.light_angle
    )
    light = 1.0 - (along + 0.5).clip(0, 1) * (1.0 - shot.light_low)
    if shot.shadow:
        # A soft shadow (the phone, a hand) over one side: a blurred half-plane or blob.
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        angle = rng.uniform(0, np.pi)
        side = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle) > 0
        mask = cv2.GaussianBlur(side.astype(np.float32), (0, 0), width * 0.03)
        light = light * (1.0 - shot.shadow * mask)
    return light


def _crumple(page: np.ndarray, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    height, width = page.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    fx, fy = rng.uniform(150, 400, 2)
    px, py = rng.uniform(0, 2 * np.pi, 2)
    map_x = x + amplitude * np.sin(y / fy + px)
    map_y = y + amplitude * np.sin(x / fx + py)
    return cv2.remap(
        page,
        map_x.astype(np.float32),
        map_y.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def photograph(page: Image.Image, seed: int, name: str) -> tuple[bytes, Shot]:
    """A Telegram-compressed phone photo of `page`, and how it was taken."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    shot = plan(rng)
    paper = np.asarray(page.convert("RGB")).astype(np.float32)
    # Paper is seldom pure white under room light.
    paper = paper * np.array(rng.uniform([0.9, 0.88, 0.82], [1.0, 1.0, 0.98]), np.float32)
    if shot.crumple:
        paper = _crumple(paper, shot.crumple * paper.shape[1] / 1000, rng)
    ph, pw = paper.shape[:2]
    # A portrait frame for tall pages, landscape for wide ones, 4:3 like phone cameras.
    portrait = ph >= pw
    frame_h, frame_w = (
        (CAMERA_SIDE, CAMERA_SIDE * 3 // 4) if portrait else (CAMERA_SIDE * 3 // 4, CAMERA_SIDE)
    )
    scale = min(frame_h * shot.page_share / ph, frame_w * shot.page_share / pw)
    w, h = pw * scale, ph * scale
    corners = np.array(
        [[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]], np.float32
    )
    theta = np.deg2rad(shot.rotation)
    turn = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]], np.float32)
    corners = corners @ turn.T
    corners += rng.uniform(-1, 1, (4, 2)).astype(np.float32) * shot.corner_jitter * max(w, h)
    # Keep the page inside the frame, off centre as a hand holds it.
    low, high = corners.min(axis=0), corners.max(axis=0)
    room = np.array([frame_w, frame_h], np.float32) - (high - low)
    offset = -low + np.maximum(room, 0) * rng.uniform(0.2, 0.8, 2).astype(np.float32)
    corners += offset
    if (room < 0).any():  # too big after the tilt: shrink about the centre
        centre = corners.mean(axis=0)
        fit = float(min(frame_w / (high - low)[0], frame_h / (high - low)[1])) * 0.97
        corners = (corners - centre) * fit + np.array([frame_w / 2, frame_h / 2], np.float32)
    source = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, corners.astype(np.float32))
    warped = cv2.warpPerspective(paper, matrix, (frame_w, frame_h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(
        np.ones((ph, pw), np.float32), matrix, (frame_w, frame_h), flags=cv2.INTER_LINEAR
    )
    table = _background(shot.background, frame_h, frame_w, rng)
    # The page's own soft shadow on the table, a little offset.
    drop = cv2.GaussianBlur(np.roll(mask, (12, 12), axis=(0, 1)), (0, 0), 15)
    table = table * (1 - 0.35 * drop[..., None])
    image = warped * mask[..., None] + table * (1 - mask[..., None])
    image = image * _lighting(frame_h, frame_w, shot, rng)[..., None]
    image = cv2.GaussianBlur(image, (0, 0), shot.blur)
    image = image + rng.normal(0, shot.noise, image.shape).astype(np.float32)
    camera = Image.fromarray(image.clip(0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    camera.save(buffer, "JPEG", quality=shot.phone_quality)
    camera = Image.open(io.BytesIO(buffer.getvalue()))
    camera.thumbnail((TELEGRAM_SIDE, TELEGRAM_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    camera.save(buffer, "JPEG", quality=shot.telegram_quality)
    return buffer.getvalue(), shot


def source_page(folder: Path, label: dict[str, object]) -> Image.Image | None:
    """The page a client would photograph: the sample's picture, else its PDF printed."""
    files = [str(label["file"]), *[str(f) for f in label.get("also", [])]]  # type: ignore[attr-defined]
    for name in files:
        if Path(name).suffix.lower() in (".png", ".jpg", ".jpeg"):
            return Image.open(folder / name).convert("RGB")
    for name in files:
        if Path(name).suffix.lower() == ".pdf":
            import pypdfium2 as pdfium

            document = pdfium.PdfDocument(str(folder / name))
            try:
                return document[0].render(scale=150 / 72).to_pil().convert("RGB")
            finally:
                document.close()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--limit", type=int, default=0, help="at most N samples per folder")
    args = parser.parse_args()
    made = 0
    for folder in map(Path, args.folders):
        target = Path(args.out) / f"{folder.name}-phone"
        target.mkdir(parents=True, exist_ok=True)
        labels = sorted(folder.glob("*.json"))
        if args.limit and len(labels) > args.limit:
            step = len(labels) / args.limit
            labels = [labels[int(i * step)] for i in range(args.limit)]
        for label_path in labels:
            label = json.loads(label_path.read_text())
            if "file" not in label:
                continue
            page = source_page(folder, label)
            if page is None:
                continue
            for seed in args.seeds:
                name = f"{label_path.stem}-s{seed}"
                data, shot = photograph(page, seed, label_path.stem)
                (target / f"{name}.jpg").write_bytes(data)
                photo_label = {k: v for k, v in label.items() if k != "also"}
                photo_label.update(file=f"{name}.jpg", photo={"seed": seed, **asdict(shot)})
                (target / f"{name}.json").write_text(
                    json.dumps(photo_label, ensure_ascii=False, indent=1)
                )
                made += 1
    print(json.dumps({"photos": made, "out": args.out}))


if __name__ == "__main__":
    main()
