"""A running bot with an office, a business, a client and two accountants, and the web
pages on top of it: what the API and the browser tests share."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
import zipfile
from urllib.parse import urlencode

from sqlalchemy import update

from bot.webapp.config import master_key
from core.domain import OfficeMember, OfficeRole
from core.web_access import WebLinks
from local_api.client import TgUser
from local_api.testing import DEFAULT_TOKEN
from storage import tables
from tests import images, scenario
from tests.e2e.harness import Harness

DANA = TgUser(id=7_000_000_201, first_name="Dana", language_code="he")  # the client
ALICE = TgUser(id=7_000_000_202, first_name="Alice", language_code="en")  # accountant
EVE = TgUser(id=7_000_000_203, first_name="Eve", language_code="en")  # another office's


def init_data(user: TgUser, *, age: float = 0, token: str = DEFAULT_TOKEN) -> str:
    """Init data as Telegram signs it (core.telegram.org/bots/webapps#validating-data)."""
    fields = {
        "auth_date": str(int(time.time() - age)),
        "query_id": "AAE-test",
        "user": json.dumps({"id": user.id, "first_name": user.first_name}),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def zipped(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


async def staff(harness: Harness, user: TgUser, office_id: int) -> int:
    person = await scenario.person(harness.app.uow_factory, user.id, user.first_name, "en")
    async with harness.app.uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=office_id, person_id=person.id or 0, role=OfficeRole.STAFF)
        )
        await uow.commit()
    return person.id or 0


async def people(harness: Harness, base_url: str) -> dict[str, int]:
    """Dana joins Falafel Ltd (Alice's office); Eve works for another office."""
    office_id, org_id = await harness.office_and_org()
    foreign_id, _ = await harness.office_and_org("Elsewhere Ltd")
    ids = {"alice": await staff(harness, ALICE, office_id)}
    ids["eve"] = await staff(harness, EVE, foreign_id)
    await harness.join(DANA, org_id)
    async with harness.app.uow_factory() as uow:
        found = await uow.people.by_identity("telegram", DANA.id)
        assert found is not None
        ids["dana"] = found[0].id or 0
    ids["org"] = org_id
    # The bot offers pages at this address (in production TAYUK_WEB_BASE_URL).
    harness.app.dispatcher.workflow_data["web_links"] = WebLinks(
        base_url, master_key(harness.app.settings)
    )
    return ids


async def make_read(harness: Harness, document_id: int, vendor: str = "Falafel Shop") -> None:
    """The reader is off in the harness: mark the document read, as the worker would."""
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.documents)
            .where(tables.documents.c.id == document_id)
            .values(
                state="to_file",
                kind="receipt",
                fields={
                    "vendor_name": {"value": vendor, "confidence": 0.9, "reason": ""},
                    "total": {"value": "117.00", "confidence": 0.95, "reason": ""},
                    "vendor_id": {"value": "51530305", "confidence": 0.3, "reason": "blur"},
                },
            )
        )
        await uow.commit()


FILES = {
    "receipt.jpg": images.jpeg(label="receipt one"),
    "invoice.pdf": images.pdf(label="invoice two"),
}
