"""A file with more pages than are read: the client is told in the read notice, and the
accountant's card says so (real bot, real worker process pool, real Tesseract)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.review import card_caption
from handlers.texts import Texts
from local_api.client import TgUser
from tests import hostile_files
from tests.e2e.harness import running_bot

JOHN = TgUser(id=6_000_000_101, first_name="John", language_code="en")
DANA = TgUser(id=6_000_000_102, first_name="Dana", language_code="he")


@pytest.mark.parametrize("user", [JOHN, DANA], ids=["en", "he"])
async def test_a_tiff_over_the_page_limit_is_read_in_part_and_everyone_is_told(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, user: TgUser
) -> None:
    monkeypatch.setenv("TAYUK_OCR_MAX_PAGES", "2")
    monkeypatch.setenv("TAYUK_OCR_LATIN_ENGINE", "tesseract")
    async with running_bot(tmp_path, database_url, enabled=True, processes=1) as harness:
        _, org_id = await harness.office_and_org()
        await harness.join(user, org_id)
        before = len(await harness.api.messages(user.id))
        await harness.api.send_document(
            user,
            hostile_files.multipage_tiff(3, (850, 1100)),
            file_name="scan.tiff",
            mime_type="image/tiff",
        )
        messages = await harness.api.wait_for_messages(user.id, before + 2, timeout=120)
        notice = messages[-1].text or ""
        if user is JOHN:
            assert "the file has 3 pages and I read only the first 2" in notice
        else:
            assert "בקובץ יש 3 עמודים, וקראתי רק את 2 הראשונים" in notice
        async with harness.app.uow_factory() as uow:
            [document_id] = [d for d in range(1, 5) if await uow.documents.get(d) is not None]
            document = await uow.documents.get(document_id)
        assert document is not None
        assert document.fields["_partial"] == {"read": 2, "total": 3}
        assert "Only 2 of the file's 3 pages were read" in card_caption(
            Texts("en"), document, "Falafel Ltd"
        )
        assert "נקראו רק 2 מתוך 3 העמודים" in card_caption(Texts("he"), document, "Falafel Ltd")
