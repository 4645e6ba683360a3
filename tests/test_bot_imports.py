"""The bot's process stays small: starting it imports none of the heavy numerical and
reading libraries (scikit-learn with numpy and scipy, onnxruntime, OpenCV, WeasyPrint,
openpyxl), and the office's category model is trained in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.suggestions import TRAIN_NICE

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "scipy", "numpy", "onnxruntime", "cv2", "rapidocr", "weasyprint", "openpyxl")

# What `tayuk run` loads to start: the app, the runner, the HTTP side, the in-process
# reading worker and the scheduler (each imported where it starts).
START = """
import json, sys
import bot.app, bot.runner, bot.web, bot.worker, bot.scheduler, bot.webapp.routes
import uvicorn
from bot.ocr.pool import build_pool, read_in_worker
from handlers.reading_notice import announcer
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)))
"""

# An office's model trained the way the bot does it, then a suggestion from it.
TRAIN = """
import asyncio, json, sys
from datetime import UTC, datetime, timedelta
from core.suggestions import Example, TrainApart

def main():
    kinds = [("510000003", "fuel liters", "fuel"), ("520000029", "internet", "communications")]
    history = []
    for n in range(30):
        vendor, words, category = kinds[n % 2]
        history.append(Example(vendor, None, tuple(words.split()), "receipt", 50.0, category,
                               datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n)))
    model = asyncio.run(TrainApart()(history))
    found = model.suggest(Example("510000003", "Paz", ("liters",), "receipt", 60.0))
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
    print(json.dumps([found.category, found.reason.value, heavy]))

if __name__ == "__main__":
    main()
"""


def run(code: str, tmp_path: Path) -> object:
    script = tmp_path / "probe.py"
    script.write_text(code.replace("HEAVY", repr(HEAVY)))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_starting_the_bot_imports_no_heavy_library(tmp_path: Path) -> None:
    assert run(START, tmp_path) == []


def test_the_category_model_is_trained_outside_the_bots_process(tmp_path: Path) -> None:
    assert run(TRAIN, tmp_path) == ["fuel", "vendor", []]


# A bot killed outright (SIGKILL; uvicorn re-raising SIGTERM before any cleanup) must not
# leave its training process behind: it held the bot's pipes open, and a parent waiting for
# them to close waited for ever (found by bench/web.py hanging at its end).
ORPHAN = """
import asyncio, multiprocessing, os, sys, time
from core.suggestions import TrainApart

def main():
    trainer = TrainApart()
    asyncio.run(trainer([]))  # starts the training process
    children = multiprocessing.active_children()
    print(" ".join(str(c.pid) for c in children), flush=True)
    time.sleep(60)

if __name__ == "__main__":
    main()
"""


def test_the_training_process_dies_with_the_bot_and_runs_below_it(tmp_path: Path) -> None:
    import os
    import signal
    import time

    script = tmp_path / "orphan.py"
    script.write_text(ORPHAN)
    bot = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert bot.stdout is not None
        children = [int(pid) for pid in bot.stdout.readline().split()]
        assert children, "the training process did not start"
        # And it runs below the bot: its import and fitting wait for the bot's answers.
        for pid in children:
            nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
            # 19 is the lowest priority there is (a suite run under `nice` reaches it).
            assert nice >= min(19, os.nice(0) + TRAIN_NICE), (pid, nice)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait(30)

    def alive(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        return state != "Z"

    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in children if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []
