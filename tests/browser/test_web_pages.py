"""The upload page and the review screen in real headless Chromium, served by the bot's
FastAPI app over HTTP, the bot itself talking to the local Bot API server.

A forged and an old Telegram sign-in are refused; a client opens the link the bot gave,
uploads three files (one a duplicate, one not a document) and sees each result, then the
reading results; a copied link opens nothing; the accountant opens the review screen from
/tofile and edits, approves and returns with the keyboard; the client hears of the return
in the chat. Screenshots of each screen, in Hebrew and in English, go to var/screenshots.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn
from sqlalchemy import select, update

from bot.web import build_web
from core.domain import DocumentState
from handlers.texts import Texts
from storage import tables
from tests import images
from tests.browser.test_demo import CHROMEDRIVER, CHROMIUM, FLAGS, SCREENSHOTS, free_port
from tests.e2e.harness import Harness, running_bot
from tests.web.world import ALICE, DANA, init_data, make_read, people

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian's chromium and chromium-driver are not installed "
    "(scripts/test.sh installs them)",
)


@contextlib.asynccontextmanager
async def served(harness: Harness) -> AsyncIterator[str]:
    # Plain http on 127.0.0.1, said so explicitly: cookies are Secure everywhere else.
    harness.app.settings.web.allow_http_loopback = True
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            build_web(harness.app),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn has no event to wait on)
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


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


async def wait_for(what: Callable[[], Any], about: str) -> Any:
    """Looks in a thread (Selenium blocks) while the loop goes on serving the pages."""
    deadline = asyncio.get_running_loop().time() + 15
    while asyncio.get_running_loop().time() < deadline:
        try:
            found = await asyncio.to_thread(what)
        except Exception:  # an element redrawn between two looks
            found = None
        if found:
            return found
        await asyncio.sleep(0.15)
    raise AssertionError(f"timed out waiting for {about}")


def button_url(message: Any) -> str:
    assert message.inline_keyboard, message
    return str(message.inline_keyboard[-1][0]["url"])


async def set_language(harness: Harness, person_id: int, language: str) -> None:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.people).where(tables.people.c.id == person_id).values(language=language)
        )
        await uow.commit()


async def documents(harness: Harness) -> dict[int, DocumentState]:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        rows = await uow.session.execute(select(tables.documents.c.id, tables.documents.c.state))
        return {row.id: DocumentState(row.state) for row in rows}


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'tayuk.db'}") as running:
        yield running


async def test_upload_and_review_in_the_browser(
    harness: Harness, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def text_of(css: str) -> str:
        return str(browser.find_element(By.CSS_SELECTOR, css).text)

    async def go(url: str) -> None:
        await asyncio.to_thread(browser.get, url)

    async def shot(name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(browser.save_screenshot, str(SCREENSHOTS / f"{name}.png"))

    async def keys(*pressed: str) -> None:
        focused = await asyncio.to_thread(lambda: browser.switch_to.active_element)
        await asyncio.to_thread(focused.send_keys, *pressed)

    he, en = Texts("he"), Texts("en")
    async with served(harness) as base:
        ids = await people(harness, base)
        # Inside Telegram: a forged and an old init data open nothing.
        for attempt, (forged, key) in enumerate(
            (
                (init_data(DANA, token="123:forged"), "web.init_data_invalid"),
                (init_data(DANA, age=3 * 3600), "web.init_data_expired"),
            )
        ):
            # A query of its own: a new fragment alone would not load the page again.
            await go(f"{base}/app/upload?try={attempt}#tgWebAppData={quote(forged)}")
            await wait_for(lambda k=key: he(k) in text_of("#notice"), key)
            assert not browser.find_elements(By.ID, "files")
        await shot("web-refused-he")

        # The client: /upload gives a link for her only; three files, each with its result.
        offer = await harness.say(DANA, "/upload")
        link = button_url(offer)
        await go(link)
        picker = await wait_for(lambda: browser.find_element(By.ID, "files"), "the upload page")
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
        paths = []
        receipt = images.jpeg(label="web receipt")
        for name, data in (
            ("receipt.jpg", receipt),
            ("receipt-copy.jpg", receipt),
            ("notes.pdf", b"this is not a pdf at all"),
        ):
            (tmp_path / name).write_bytes(data)
            paths.append(str(tmp_path / name))
        # One after another: which of the two same pictures is "the duplicate" is then known.
        for count, path in enumerate(paths, start=1):
            await asyncio.to_thread(picker.send_keys, path)
            await wait_for(
                lambda n=count: len(browser.find_elements(By.CSS_SELECTOR, "li.result")) == n,
                f"the result of {path}",
            )
        outcomes = [
            e.get_attribute("data-outcome")
            for e in browser.find_elements(By.CSS_SELECTOR, "li.result")
        ]
        assert outcomes == ["stored", "duplicate", "refused"]
        assert he("file.unsupported") in text_of("li.result.refused")
        # The reading results arrive on the page as the documents are read.
        stored = [i for i, s in (await documents(harness)).items() if s is DocumentState.RECEIVED]
        assert len(stored) == 1
        await make_read(harness, stored[0])
        await wait_for(lambda: "Falafel Shop" in text_of(".reading.read"), "the reading result")
        await shot("web-upload-he")

        # The link, copied after its owner used it, opens nothing.
        await go(link)
        await wait_for(lambda: he("web.link_used") in text_of("#refused"), "the used link refused")

        # The same page in English.
        await set_language(harness, ids["dana"], "en")
        await go(button_url(await harness.say(DANA, "/upload")))
        picker = await wait_for(lambda: browser.find_element(By.ID, "files"), "the page again")
        await asyncio.to_thread(picker.send_keys, paths[0])
        await wait_for(
            lambda: en("web.outcome_duplicate", id=1) in text_of("li.result"), "English result"
        )
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "ltr"
        await shot("web-upload-en")

        # Two more documents come by chat, to be filed on the web.
        for label in ("second", "third"):
            await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label=label)))
        for document_id, state in (await documents(harness)).items():
            if state is DocumentState.RECEIVED:
                await make_read(harness, document_id, vendor=f"Vendor {document_id}")

        # The accountant, from /tofile; first in Hebrew, then in her English.
        await set_language(harness, ids["alice"], "he")
        report = await harness.say(ALICE, "/tofile")
        await go(button_url(report))
        await wait_for(lambda: browser.find_elements(By.ID, "approve"), "the review screen")
        await wait_for(
            lambda: browser.find_element(By.ID, "picture").get_attribute("src"), "the picture"
        )
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
        await shot("web-review-he")
        await set_language(harness, ids["alice"], "en")
        await asyncio.to_thread(browser.refresh)
        await wait_for(lambda: en("web.approve") in text_of("#approve"), "the English screen")
        await wait_for(
            lambda: browser.find_element(By.ID, "picture").get_attribute("src"), "the picture"
        )
        await shot("web-review-en")
        first = text_of("#doc-title")
        assert "⚠️" in text_of('dd[data-field="vendor_id"]')  # the doubtful field, marked

        # e: edit the doubtful field, Enter saves.
        await keys("e")
        field = await wait_for(lambda: browser.find_element(By.ID, "edit-value"), "edit form")
        assert browser.find_element(By.ID, "edit-field").get_attribute("value") == "vendor_id"
        await asyncio.to_thread(field.clear)
        await asyncio.to_thread(field.send_keys, "515303055", Keys.ENTER)
        await wait_for(
            lambda: (
                "515303055" in text_of('dd[data-field="vendor_id"]')
                and "⚠️" not in text_of('dd[data-field="vendor_id"]')
            ),
            "the edited field",
        )
        # a: approve; the next document comes.
        await keys("a")
        await wait_for(lambda: text_of("#doc-title") != first, "the next document")
        # j: skip to the next; r: return it with a reason and a note.
        second = text_of("#doc-title")
        await keys("j")
        await wait_for(lambda: text_of("#doc-title") != second, "the document after")
        chat_before = len(await harness.api.messages(DANA.id))
        await keys("r")
        note = await wait_for(lambda: browser.find_element(By.ID, "return-note"), "return form")
        await asyncio.to_thread(note.send_keys, "Please send a sharper photo", Keys.ENTER)
        await wait_for(lambda: "returned" in text_of("#notice"), "the return done")

    states = sorted(s.value for s in (await documents(harness)).values())
    assert states.count("filed") == 1 and states.count("returned") == 1, states
    told = await harness.api.wait_for_messages(DANA.id, chat_before + 1, timeout=10)
    assert "sharper photo" in (told[-1].caption or told[-1].text or "")


DARK = {
    "bg_color": "#17212b",
    "secondary_bg_color": "#232e3c",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "link_color": "#6ab3f3",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
}
# A synthetic drop, as the browser makes one when files are dragged from the desktop: the
# same DataTransfer holding the files, through dragenter, dragover and drop on the zone.
DROP = """
const [files, done] = [arguments[0], arguments[arguments.length - 1]];
const zone = document.getElementById("drop");
const transfer = new DataTransfer();
for (const [name, type, base64] of files) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  transfer.items.add(new File([bytes], name, { type }));
}
const fire = (type) => zone.dispatchEvent(
  new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
fire("dragenter");
const accepted = !fire("dragover");  // the page takes it: the default (refusing) prevented
const highlighted = zone.classList.contains("over");
fire("drop");
done({ accepted, highlighted, after: zone.classList.contains("over") });
"""


def colour(css: str) -> str:
    """'#17212b' as the browser reports a computed colour."""
    r, g, b = (int(css[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


async def test_a_mini_app_in_telegram_colours_that_takes_dropped_files(
    harness: Harness, browser: Any
) -> None:
    """Opened inside Telegram, the page draws in Telegram's theme (night mode here) and
    follows a change of it; files dragged onto the drop zone are uploaded, each with its
    result (a picture stored, a PDF that is not one refused)."""
    import base64
    import json

    from selenium.webdriver.common.by import By

    def style(css: str, name: str) -> str:
        element = browser.find_element(By.CSS_SELECTOR, css)
        return str(
            browser.execute_script(f"return getComputedStyle(arguments[0]).{name}", element)
        )

    async with served(harness) as base:
        await people(harness, base)
        signed, theme = quote(init_data(DANA)), quote(json.dumps(DARK))
        fragment = f"tgWebAppData={signed}&tgWebAppThemeParams={theme}&tgWebAppVersion=8.0"
        await asyncio.to_thread(browser.get, f"{base}/app/upload#{fragment}")
        await wait_for(lambda: browser.find_elements(By.ID, "drop"), "the upload page")
        assert style("body", "backgroundColor") == colour(DARK["secondary_bg_color"])
        assert style("body", "color") == colour(DARK["text_color"])
        assert style("#drop", "backgroundColor") == colour(DARK["bg_color"])
        assert style(".button", "color") == colour(DARK["link_color"])
        assert browser.execute_script("return document.documentElement.style.colorScheme") == (
            "dark"
        )
        # The user switches Telegram to its day theme: the page follows at once.
        light = {"bg_color": "#ffffff", "secondary_bg_color": "#efeff4", "text_color": "#000000"}
        await asyncio.to_thread(
            browser.execute_script,
            "window.Telegram.WebView.receiveEvent('theme_changed', {theme_params: arguments[0]})",
            light,
        )
        assert style("body", "backgroundColor") == colour(light["secondary_bg_color"])
        # A colour that is not one is not taken (nothing but colours reaches the style).
        await asyncio.to_thread(
            browser.execute_script,
            "window.Telegram.WebView.receiveEvent('theme_changed', {theme_params: arguments[0]})",
            {"bg_color": "red;background:url(//evil)", "text_color": "#111111"},
        )
        assert style("body", "color") == colour("#111111")
        assert style("#drop", "backgroundColor") == colour(light["bg_color"])
        await asyncio.to_thread(  # night again, for the screenshot
            browser.execute_script,
            "window.Telegram.WebView.receiveEvent('theme_changed', {theme_params: arguments[0]})",
            DARK,
        )

        files = [
            ["dropped.jpg", "image/jpeg", base64.b64encode(images.jpeg(label="dropped")).decode()],
            ["broken.pdf", "application/pdf", base64.b64encode(b"no pdf at all").decode()],
        ]
        dropped = await asyncio.to_thread(browser.execute_async_script, DROP, files)
        assert dropped == {"accepted": True, "highlighted": True, "after": False}
        await wait_for(
            lambda: len(browser.find_elements(By.CSS_SELECTOR, "li.result")) == 2,
            "both dropped files' results",
        )
        results = {
            row.find_element(By.CSS_SELECTOR, ".name").text: row.find_element(
                By.CSS_SELECTOR, "li.result"
            ).get_attribute("data-outcome")
            for row in browser.find_elements(By.CSS_SELECTOR, "#results > li")
        }
        assert results == {"dropped.jpg": "stored", "broken.pdf": "refused"}
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(
            browser.save_screenshot, str(SCREENSHOTS / "web-upload-telegram-night-he.png")
        )
    states = list((await documents(harness)).values())
    assert states == [DocumentState.RECEIVED]
