"""Filed documents reach the books, over HTTP: /vat, /export in every format, a close, an
approval refused in the closed period, a reopen with its reason."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select, update

from core.domain import AuditEntry, DocumentState, OfficeMember, OfficeRole
from local_api.client import ChatMessage, TgUser
from storage import tables
from tests import images, scenario
from tests.books.readers import PCN_HEADER, parse, parse_bkmvdata, split_records
from tests.e2e.harness import Harness

DANA = TgUser(id=5_000_000_201, first_name="Dana", language_code="he")
ALICE = TgUser(id=5_000_000_202, first_name="Alice", language_code="en")


def last_month() -> datetime:
    today = datetime.now(UTC)
    return (today.replace(day=1) - timedelta(days=1)).replace(day=5)


async def sent_and_read(harness: Harness, number: str) -> int:
    """Dana sends a photo; it is made read as a tax invoice of last month."""
    await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label=number)))
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        doc_id = await uow.session.scalar(select(tables.documents.c.id).order_by(
            tables.documents.c.id.desc()).limit(1))  # fmt: skip
        await uow.session.execute(
            update(tables.documents)
            .where(tables.documents.c.id == doc_id)
            .values(
                state="to_file",
                kind="tax_invoice",
                fields={
                    "total": {"value": "1180.00", "confidence": 0.95, "reason": ""},
                    "vat": {"value": "180.00", "confidence": 0.95, "reason": ""},
                    "date": {"value": last_month().date().isoformat(), "confidence": 0.95},
                    "doc_number": {"value": number, "confidence": 0.95},
                    "vendor_id": {"value": "514713288", "confidence": 0.95},
                    "vendor_name": {"value": "ספק ״אלף״ בע״מ", "confidence": 0.9},
                },
            )
        )
        await uow.commit()
    assert doc_id is not None
    return int(doc_id)


async def state_of(harness: Harness, doc_id: int) -> DocumentState:
    async with harness.app.uow_factory() as uow:
        document = await uow.documents.get(doc_id)
        assert document is not None
        return document.state


async def latest(harness: Harness, user: TgUser, message: ChatMessage) -> ChatMessage:
    return next(
        m for m in await harness.api.messages(user.id) if m.message_id == message.message_id
    )


async def open_period(harness: Harness, command: str, closed: bool = False) -> ChatMessage:
    """`command`, then the period to report (the first button, or the closed one); the
    screen after it."""
    periods = await harness.say(ALICE, command)
    assert "choose a period" in (periods.text or "")
    labels = [b["text"] for b in periods.buttons()]
    chosen = next(label for label in labels if "🔒" in label) if closed else labels[0]
    return await harness.edited(ALICE, harness.api.click(ALICE, periods, chosen), periods)


async def test_filed_documents_reach_the_books(harness: Harness) -> None:
    office_id, org_id = await harness.office_and_org()
    person = await scenario.person(harness.app.uow_factory, ALICE.id, "Alice", "en")
    async with harness.app.uow_factory() as uow:
        await uow.offices.add_member(OfficeMember(office_id, person.id or 0, OfficeRole.OWNER))
        await uow.commit()
    await harness.join(DANA, org_id)
    first = await sent_and_read(harness, "1001")
    second = await sent_and_read(harness, "1002")

    # Both approved by the accountant, one card after the other.
    report = await harness.say(ALICE, "/tofile")
    card = await harness.after(ALICE, harness.api.click(ALICE, report, "Falafel Ltd (2)"))
    card = await harness.after(ALICE, harness.api.click(ALICE, card, "✅ Approve"))
    await harness.after(ALICE, harness.api.click(ALICE, card, "✅ Approve"))
    assert await state_of(harness, first) is await state_of(harness, second) is DocumentState.FILED
    late = await sent_and_read(harness, "1003")

    # The period's picture.
    picture = await open_period(harness, "/vat")
    text = picture.text or ""
    assert "Documents filed: 2" in text and "Deductible VAT: ₪ 360.00" in text
    assert "Waiting to be filed: 1" in text

    # Every format comes back as a document that reads back.
    files: dict[str, bytes] = {}
    for label in ("CSV (Excel)", "Excel (XLSX)", "Uniform structure (OPENFRMT 1.31)",
                  "PCN874 (input lines)"):  # fmt: skip
        formats = await open_period(harness, "/export")
        assert "choose a format" in (formats.text or "")
        sent = await harness.after(ALICE, harness.api.click(ALICE, formats, label))
        assert sent.kind == "document" and "documents: 2." in (sent.caption or "")
        assert sent.file_id is not None
        files[sent.file_name or ""] = await harness.api.file_bytes(sent.file_id)
    by_kind = {name.split("-")[0]: data for name, data in files.items()}
    rows = list(csv.reader(io.StringIO(by_kind["csv"].decode("utf-8-sig"))))
    assert rows[0][0] == "Document" and [r[2] for r in rows[1:3]] == ["1001", "1002"]
    book = load_workbook(io.BytesIO(by_kind["xlsx"]))
    assert book.sheetnames == ["Documents", "VAT summary"]
    with zipfile.ZipFile(io.BytesIO(by_kind["openfrmt"])) as outer:
        inner_name = next(n for n in outer.namelist() if n.endswith("BKMVDATA.zip"))
        with zipfile.ZipFile(io.BytesIO(outer.read(inner_name))) as inner:
            records = parse_bkmvdata(inner.read("BKMVDATA.TXT"))
    assert sum(r["code"] == "B100" for r in records) == 6
    header = parse(split_records(by_kind["pcn874"])[0], PCN_HEADER)
    assert header["input_records"] == 2 and header["other_inputs_vat"] == 360
    # Hashavshevet needs short supplier accounts: the office maps the supplier first.
    await harness.say(ALICE, "/accounts")
    saved = await harness.say(ALICE, "supplier 514713288 40021")
    assert "Saved" in (saved.text or "")
    # Many at once: the office's chart as a CSV file.
    await harness.say(ALICE, "/accounts")
    chart = "kind,key,account\r\nexpense,office_supplies,6100\r\nsetting,input_vat,1801\r\n"
    imported = await harness.after(
        ALICE,
        harness.api.send_document(
            ALICE, chart.encode("utf-8-sig"), file_name="chart.csv", mime_type="text/csv"
        ),
    )
    assert "Rows imported: 2" in (imported.text or "") and "6100" in (imported.text or "")
    formats = await open_period(harness, "/export")
    movein = await harness.after(
        ALICE, harness.api.click(ALICE, formats, "Hashavshevet (MOVEIN.DAT)")
    )
    assert movein.kind == "document" and movein.file_name == "MOVEIN.DAT"
    data = await harness.api.file_bytes(movein.file_id or "")
    assert [len(r) for r in split_records(data)] == [178, 178]

    # Close the period: the late document can no longer be approved.
    picture = await open_period(harness, "/vat")
    closed = await harness.edited(
        ALICE, harness.api.click(ALICE, picture, "🔒 Close the period"), picture
    )
    assert "is closed" in (closed.text or "")
    report = await harness.say(ALICE, "/tofile")
    card = await harness.after(ALICE, harness.api.click(ALICE, report, "Falafel Ltd (1)"))
    assert "is closed: the VAT may be claimed in a later open period" in (card.caption or "")
    assert any(b["text"].startswith("➡️ Move to the period") for b in card.buttons())
    pressed = await harness.api.press_button(
        ALICE, card.message_id, card.button_data("✅ Approve")
    )
    answer = await harness.api.wait_for_callback_answer(pressed.callback_query_id or "")
    assert answer is not None and "is closed" in answer.get("text", "")
    assert await state_of(harness, late) is DocumentState.TO_FILE

    # Reopen, with the reason kept; then the approval goes through.
    picture = await open_period(harness, "/vat", closed=True)
    asked = await harness.edited(ALICE, harness.api.click(ALICE, picture, "🔓 Reopen"), picture)
    assert "type the reason" in (asked.text or "")
    reopened = await harness.say(ALICE, "a late supplier invoice")
    assert "open again" in (reopened.text or "")
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        entry = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "books.period_reopened")
        )
    assert entry is not None and entry.details["reason"] == "a late supplier invoice"
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "✅ Approve"))
    assert await state_of(harness, late) is DocumentState.FILED

    # Another late document after closing again: its card moves it to the next open period.
    picture = await open_period(harness, "/vat")
    await harness.edited(ALICE, harness.api.click(ALICE, picture, "🔒 Close the period"), picture)
    later = await sent_and_read(harness, "1004")
    report = await harness.say(ALICE, "/tofile")
    card = await harness.after(ALICE, harness.api.click(ALICE, report, "Falafel Ltd (1)"))
    move = next(b["text"] for b in card.buttons() if b["text"].startswith("➡️ Move"))
    fresh = await harness.after(ALICE, harness.api.click(ALICE, card, move))
    assert "is closed" not in (fresh.caption or "")
    await harness.after(ALICE, harness.api.click(ALICE, fresh, "✅ Approve"))
    assert await state_of(harness, later) is DocumentState.FILED
    async with harness.app.uow_factory() as uow:
        document = await uow.documents.get(later)
        assert document is not None
    first_of_month = datetime.now(UTC).replace(day=1).date().isoformat()
    assert document.fields["_vat_period_day"] == first_of_month
