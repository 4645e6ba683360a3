"""The demo, as a newcomer meets it: `bash scripts/run.sh` with no token, in real headless
Chromium. A visitor sends a sample receipt as the client, sees what the bot read, and approves
it as the accountant from /tofile; then switches the page (and the demo) to English."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo.seed import CASTS
from bot.demo.web import SAMPLES
from handlers.texts import Texts

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "var" / "screenshots"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1150",
)
MARKS = str.maketrans("", "", "\u200e\u200f")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian's chromium and chromium-driver are not installed "
    "(scripts/test.sh installs them)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The run command, with no token, on a free port and a temporary data folder."""
    data_dir = tmp_path / "demo-data"
    env = {**os.environ, "TAYUK_TELEGRAM_TOKEN": ""}  # even if a .env holds a real token
    process = subprocess.Popen(
        ["bash", "scripts/run.sh", "--port", str(free_port()), "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline and process.poll() is None:
            url = next((ln.split("open ", 1)[1].strip() for ln in lines if " open " in ln), None)
            time.sleep(0.1)
        assert url is not None, "the demo did not print its address:\n" + "".join(lines)
        assert url.startswith("http://127.0.0.1:"), url
        yield url, data_dir
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, "".join(lines)
    assert "Traceback" not in "".join(lines), "".join(lines)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(what: Callable[[], Any], timeout: float, about: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = what()
        except Exception:  # the page redraws chats: an element can go stale between looks
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {about}")


def bubble_with(driver: Any, who: str, text: str) -> Any:
    wanted = text.translate(MARKS)
    for bubble in driver.find_elements("css selector", f"#phone-{who} .msg"):
        if wanted in bubble.text.translate(MARKS):
            return bubble
    return None


def button_with(driver: Any, who: str, text: str) -> Any:
    wanted = text.translate(MARKS)
    for button in driver.find_elements("css selector", f"#phone-{who} .keyboard button"):
        if wanted in button.text.translate(MARKS) and button.is_enabled():
            return button
    return None


def say(driver: Any, who: str, text: str) -> None:
    box = driver.find_element("css selector", f"#phone-{who} .composer .text")
    box.click()
    box.send_keys(text + "\n")


def test_a_visitor_sends_a_receipt_and_approves_it(demo: tuple[str, Path], browser: Any) -> None:
    url, data_dir = demo
    he, cast = Texts("he"), CASTS["he"]
    org = cast.organizations[0][0]
    browser.get(url)

    # Hebrew, right to left, both people already joined through the bot.
    wait_for(lambda: bubble_with(browser, "client", he("start.joined_org", org=org)), 20, "join")
    assert browser.find_element("tag name", "html").get_attribute("dir") == "rtl"
    notice = browser.find_element("id", "notice").text
    assert "Telegram" in notice and "לא נשלח" in notice
    tour = browser.find_element("id", "tour")
    assert tour.is_displayed() and "שלב 1 מתוך" in tour.text

    # 1. The client sends a sample receipt; the bot answers, then reads it.
    browser.find_element("css selector", '#phone-client [data-sample="receipt-he.jpg"]').click()
    wait_for(lambda: bubble_with(browser, "client", "התקבל ✓"), 20, "the received notice")
    assert browser.find_elements("css selector", "#phone-client .msg.out img.photo")
    browser.find_element("id", "tour-next").click()
    notice = wait_for(
        lambda: bubble_with(browser, "client", he("read.title", id=1)), 60, "the read notice"
    )
    assert he("read.sent_to_office") in notice.text

    # 2. The accountant opens /tofile, picks the organization and approves the card.
    browser.find_element("id", "tour-next").click()
    assert "focus" in browser.find_element("id", "phone-accountant").get_attribute("class")
    say(browser, "accountant", "/tofile")
    wait_for(lambda: button_with(browser, "accountant", org), 20, "the org button").click()
    wait_for(
        lambda: browser.find_elements("css selector", "#phone-accountant .msg.in img.photo"),
        20,
        "the document card",
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "demo-he-card.png"))
    approve = he("review.button_approve")
    wait_for(lambda: button_with(browser, "accountant", approve), 10, "approve").click()
    wait_for(
        lambda: bubble_with(browser, "accountant", he("review.org_done", org=org)),
        20,
        "the organization done",
    )
    browser.find_element("id", "tour-next").click()

    # Nothing on the page came from anywhere but the demo itself.
    origins = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)"
    )
    assert set(origins) <= {url.rstrip("/").rsplit("/", 1)[0]}, origins
    browser.save_screenshot(str(SCREENSHOTS / "demo-he.png"))

    # English: the page and the demo start over in English, on a fresh database.
    browser.find_element("css selector", '.lang[data-lang="en"]').click()
    en_org = CASTS["en"].organizations[0][0]
    wait_for(
        lambda: bubble_with(browser, "client", Texts("en")("start.joined_org", org=en_org)),
        30,
        "the English join",
    )
    assert browser.find_element("tag name", "html").get_attribute("dir") == "ltr"
    assert "Nothing is sent to Telegram" in browser.find_element("id", "notice").text
    assert bubble_with(browser, "accountant", he("review.org_done", org=org)) is None

    # A PDF from the visitor's computer (the file input behind the paperclip).
    upload = browser.find_element("css selector", "#phone-client input[type=file]")
    browser.execute_script("arguments[0].hidden = false", upload)
    upload.send_keys(str(SAMPLES / "invoice-he.pdf"))
    browser.execute_script("arguments[0].hidden = true", upload)
    wait_for(
        lambda: browser.find_elements("css selector", "#phone-client .msg.out .doc"),
        20,
        "the uploaded PDF",
    )
    wait_for(lambda: bubble_with(browser, "client", "Received ✓"), 20, "the English received")
    # After the reset one bot answers, and keeps a conversation's state between messages.
    en = Texts("en")
    say(browser, "accountant", "/neworg")
    wait_for(lambda: bubble_with(browser, "accountant", en("neworg.ask_name")), 20, "ask name")
    say(browser, "accountant", "Or Studio North")
    wait_for(lambda: bubble_with(browser, "accountant", en("neworg.ask_number")), 20, "number")
    browser.save_screenshot(str(SCREENSHOTS / "demo-en.png"))
    assert (data_dir / ".tayuk-demo").exists() and (data_dir / "tayuk.db").exists()
