"""Extraction benchmark: read every labelled sample and score it field by field.

    .venv/bin/python bench/extraction.py DIR [DIR...] [--out bench/results/extraction.json]
        [--limit N] [--match TEXT]

Phone photos of the same samples come from `bench/phone_photos.py` (folders ending in
"-phone"); they are scored like any folder. `--limit N` keeps N samples per folder, evenly
spread, for quick iterations on a loaded machine.

Label format and scoring rule: see the samples' README (amounts by Decimal equality, ids
digits only, vendor names fuzzily). Prints per folder and overall accuracy per field, kind
accuracy, seconds per document and the time against bare Tesseract; the last line is JSON.
The time is given twice: wall seconds, and processor seconds (this process and its Tesseract
children), which a machine loaded by other work does not inflate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
}
AMOUNTS = {"total", "vat", "net"}
IDS = {"vendor_id", "customer_id", "allocation_number"}
CONFIDENT = 0.9


def same(field: str, expected: Any, got: str | None) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    expected = str(expected)
    if field in AMOUNTS:
        try:
            return Decimal(expected) == Decimal(got)
        except InvalidOperation:
            return False
    if field in IDS:
        return re.sub(r"\D", "", expected) == re.sub(r"\D", "", got)
    if field == "doc_number":
        return _alnum(expected) == _alnum(got)
    if field == "vendor_name":
        a, b = _alnum(expected, keep_spaces=True), _alnum(got, keep_spaces=True)
        if not a or not b:
            return False
        return a in b or b in a or SequenceMatcher(None, a, b).ratio() >= 0.8
    return expected == got


def _alnum(text: str, keep_spaces: bool = False) -> str:
    text = text.casefold()
    if keep_spaces:
        return " ".join(re.sub(r"[\W_]+", " ", text).split())
    return re.sub(r"[\W_]+", "", text)


def _bare_image(data: bytes, mime: str) -> Any:
    """The picture bare Tesseract gets: the file itself, or a PDF's first page at 200 dpi."""
    import io

    from PIL import Image

    if mime == "application/pdf":
        import pypdfium2 as pdfium

        try:
            document = pdfium.PdfDocument(data)
            return document[0].render(scale=200 / 72).to_pil().convert("RGB")
        except pdfium.PdfiumError:
            return None
    if mime.startswith("image/"):
        return Image.open(io.BytesIO(data))
    return None


_engines: dict[str | None, Any] = {}


def _worker_engines(latin: str | None) -> tuple[Any, Any]:
    """One Tesseract and one Latin engine per benchmark process, as the bot's workers keep."""
    if latin not in _engines:
        from bot.ocr.pool import latin_engine
        from bot.ocr.tesseract import TesseractEngine
        from core.reading.ports import DEFAULT_LANG
        from core.reading.steps import Ocr

        # A loaded shared machine can slow one Tesseract run past the bot's 60 s limit (a
        # whole run was lost to one such timeout): the benchmark waits longer.
        engine, second = TesseractEngine(timeout=600), latin_engine(latin)
        # Models load once in a worker's life, not once a document: loaded before the first
        # timed read, as in a worker that has been running (they cost the first read of each
        # process 1-2 s, 2-3% of a 96-photo run, as much as the pipeline's own changes).
        engine.load((Ocr.hebrew_lang, Ocr.digits_lang, Ocr.latin_lang, DEFAULT_LANG))
        load = getattr(second, "load", None)
        if load is not None:
            load()
        _engines[latin] = (engine, second)
    return _engines[latin]


def _cpu() -> float:
    """Processor seconds of this process and of its finished children (Tesseract runs)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_one(path: str, today_iso: str, bare: bool, latin: str | None = None) -> dict[str, Any]:
    import resource

    os.environ["OMP_THREAD_LIMIT"] = "1"
    from core.reading import read_document

    engine, latin_engine = _worker_engines(latin)
    data = Path(path).read_bytes()
    mime = MIME[Path(path).suffix.lower()]
    started, cpu = time.perf_counter(), _cpu()
    reading = read_document(
        data,
        mime,
        engine=engine,
        today=date.fromisoformat(today_iso),
        latin_engine=latin_engine,
        photo_engine=engine.for_photo_pages(),
    )
    seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu
    bare_seconds = bare_cpu = None
    image = _bare_image(data, mime) if bare else None
    if image is not None:
        started, cpu = time.perf_counter(), _cpu()
        engine.image_to_string(image)
        bare_seconds, bare_cpu = time.perf_counter() - started, _cpu() - cpu
    return {
        "kind": str(reading.kind),
        "kind_confidence": reading.kind_confidence,
        "fields": {
            k: {"value": v.value, "confidence": v.confidence, "reason": v.reason}
            for k, v in reading.fields.items()
        },
        "problems": reading.problems,
        "pages": reading.pages,
        "seconds": seconds,
        "bare_seconds": bare_seconds,
        "cpu_seconds": cpu_seconds,
        "bare_cpu_seconds": bare_cpu,
        "steps": reading.steps,
        "text": reading.text,  # what was read, to look at why a field was missed
        # Peak resident memory so far of this process; Tesseract runs apart, as a child.
        "worker_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def collect(folders: list[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(group, file path, label) for every main file and every extra format."""
    jobs = []
    for folder in folders:
        root = Path(folder)
        name = root.name
        for label_path in sorted(root.glob("*.json")):
            label = json.loads(label_path.read_text())
            if "file" not in label:
                continue
            main = root / label["file"]
            jobs.append((name, str(main), label))
            for extra in label.get("also", []):
                ext = Path(extra).suffix.lstrip(".").lower()
                if ext != main.suffix.lstrip(".").lower():
                    jobs.append((f"{name}/{ext}", str(root / extra), label))
    return jobs


def _spread(
    jobs: list[tuple[str, str, dict[str, Any]]], limit: int
) -> list[tuple[str, str, dict[str, Any]]]:
    """At most `limit` jobs per group, evenly spread over the group's sorted files."""
    by_group: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
    for job in jobs:
        by_group[job[0]].append(job)
    kept = []
    for group_jobs in by_group.values():
        step = max(1.0, len(group_jobs) / limit)
        kept += [group_jobs[int(i * step)] for i in range(min(limit, len(group_jobs)))]
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--out", default="bench/results/extraction.json")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--today", default=date.today().isoformat())
    parser.add_argument("--no-bare", action="store_true", help="skip the bare Tesseract run")
    parser.add_argument(
        "--latin-engine",
        choices=["rapidocr", "tesseract"],
        default=None,
        help="engine for Latin pages; default TAYUK_OCR_LATIN_ENGINE as the bot",
    )
    parser.add_argument("--limit", type=int, default=0, help="at most N samples per folder")
    parser.add_argument("--match", default="", help="only files whose path contains this")
    args = parser.parse_args()

    jobs = [j for j in collect(args.folders) if args.match in j[1]]
    if args.limit:
        jobs = _spread(jobs, args.limit)
    with ProcessPoolExecutor(args.workers) as pool:
        futures = [
            pool.submit(run_one, path, args.today, not args.no_bare, args.latin_engine)
            for _, path, _ in jobs
        ]
        outputs = [f.result() for f in futures]

    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    documents = []
    for (group, path, label), got in zip(jobs, outputs, strict=True):
        scored = {}
        for field, expected in label.get("fields", {}).items():
            reading = got["fields"].get(field, {"value": None, "confidence": 0.0})
            scored[field] = {
                "expected": expected,
                "got": reading["value"],
                "confidence": reading["confidence"],
                "reason": reading.get("reason"),
                "ok": same(field, expected, reading["value"]),
            }
        doc = {
            "group": group,
            "file": path,
            "kind_expected": label.get("kind"),
            "kind_got": got["kind"],
            "kind_ok": label.get("kind") == got["kind"],
            "fields": scored,
            "problems": got["problems"],
            "seconds": got["seconds"],
            "bare_seconds": got["bare_seconds"],
            "cpu_seconds": got["cpu_seconds"],
            "bare_cpu_seconds": got["bare_cpu_seconds"],
            "steps": got["steps"],
            "text": got["text"],
        }
        groups[group].append(doc)
        documents.append(doc)

    summary: dict[str, Any] = {}
    confident_wrong = confident = fields_total = 0
    for group, docs in groups.items():
        per_field: dict[str, list[bool]] = defaultdict(list)
        group_wrong = group_fields = 0
        for doc in docs:
            for field, s in doc["fields"].items():
                per_field[field].append(s["ok"])
                fields_total += 1
                group_fields += 1
                if s["confidence"] >= CONFIDENT:
                    confident += 1
                    confident_wrong += not s["ok"]
                    group_wrong += not s["ok"]
        seconds = sum(d["seconds"] for d in docs)
        bare = [d for d in docs if d["bare_seconds"]]
        ratio = (
            sum(d["seconds"] for d in bare) / sum(d["bare_seconds"] for d in bare)
            if bare
            else None
        )
        cpu_ratio = (
            sum(d["cpu_seconds"] for d in bare) / sum(d["bare_cpu_seconds"] for d in bare)
            if bare and sum(d["bare_cpu_seconds"] for d in bare)
            else None
        )
        summary[group] = {
            "n": len(docs),
            "fields": {f: round(sum(v) / len(v), 3) for f, v in sorted(per_field.items())},
            "kind": round(sum(d["kind_ok"] for d in docs) / len(docs), 3),
            "sec_per_doc": round(seconds / len(docs), 3),
            "vs_tesseract": round(ratio, 2) if ratio else None,
            "cpu_vs_tesseract": round(cpu_ratio, 2) if cpu_ratio else None,
            # Every sample holds one document: any flag here is a false alarm.
            "several_documents": sum("several_documents" in d["problems"] for d in docs),
            "confident_wrong_rate": round(group_wrong / max(1, group_fields), 4),
            "problems": dict(Counter(p for d in docs for p in d["problems"])),
        }

    for group, s in summary.items():
        print(
            f"\n{group}: n={s['n']} kind={s['kind']:.2f} sec/doc={s['sec_per_doc']:.2f} "
            f"vs bare Tesseract={s['vs_tesseract']} (cpu {s['cpu_vs_tesseract']}) "
            f"several_documents={s['several_documents']} "
            f"confident_wrong={s['confident_wrong_rate']} problems={s['problems']}"
        )
        for field, accuracy in s["fields"].items():
            print(f"  {field:18} {accuracy:.3f}")
    rate = confident_wrong / fields_total if fields_total else 0.0
    print(
        f"\nconfident (>= {CONFIDENT}) fields: {confident} of {fields_total}, wrong: "
        f"{confident_wrong} ({confident_wrong / max(1, confident):.3f} of the confident)"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"summary": summary, "documents": documents}, ensure_ascii=False, indent=1, default=str
        )
    )
    print(f"per-document results: {out}")
    memory = {
        "worker_peak_rss_mb": round(max(o["worker_rss_mb"] for o in outputs)),
        "latin_pages_by_second_engine": sum(
            any(s.startswith("read with ") for s in o["steps"]) for o in outputs
        ),
    }
    print(json.dumps({"folders": summary, "confident_wrong_rate": round(rate, 4), **memory}))


if __name__ == "__main__":
    main()
