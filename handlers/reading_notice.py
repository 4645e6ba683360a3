"""Tells the client, in their chat, what was read from their document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core.domain import PARTIAL, Document
from core.permissions import Action, may
from core.ports import UnitOfWorkFactory
from core.reading_jobs import Applied, ReadOutcome
from core.review import allocation_missing
from handlers import smart_card
from handlers.callbacks import ClientAct
from handlers.outbox import Delivery, Outbox
from handlers.texts import Texts, number_of

SHOWN = ("vendor_name", "vendor_id", "date", "total", "vat")
UNSURE_BELOW = 0.6
_LINE = {
    "vendor_name": "read.vendor",
    "vendor_id": "read.vendor_id",
    "date": "read.date",
    "total": "read.total",
    "vat": "read.vat",
}


def render_reading(t: Texts, document: Document, moved_to: str | None) -> str:
    lines = [
        t("read.title", id=number_of(document)),
        t("read.kind", kind=t(f"kind.{document.kind}")),
    ]
    missing = []
    # Not read is not shekels: with no currency read, amounts go without a sign and the
    # currency is listed with what could not be read.
    currency = (document.fields.get("currency") or {}).get("value")
    for name in SHOWN:
        field: dict[str, Any] = document.fields.get(name) or {}
        value = field.get("value")
        if value is None:
            missing.append(t(f"field.{name}"))
            continue
        if name in ("total", "vat"):
            value = t.amount(value, currency or "")
        elif name == "date":
            value = t.date(str(value))
        line = t(_LINE[name], value=value)
        if float(field.get("confidence") or 0) < UNSURE_BELOW:
            line += " " + t("read.unsure")
        lines.append(line)
    if currency is None and any(
        (document.fields.get(n) or {}).get("value") is not None for n in ("total", "vat")
    ):
        missing.append(t("field.currency"))
    if missing:
        lines.append(t("read.missing", fields=", ".join(missing)))
    allocation = allocation_missing(document)
    if allocation is not None:
        # Told at once, while the client can still ask the supplier for it.
        lines.append(
            "⚠️ "
            + t(
                "read.allocation_missing",
                threshold=t.amount(allocation.threshold, "ILS"),
            )
        )
    if moved_to:
        lines.append(t("read.moved", org=moved_to))
    partial = document.fields.get(PARTIAL)
    if partial:
        lines.append(t("read.partial", read=partial["read"], total=partial["total"]))
    lines.append(t("read.sent_to_office"))
    if (duplicate := smart_card.client_line(t, document)) is not None:
        lines.append(duplicate)  # smart filing: sent twice, told gently
    return "\n".join(lines)


def announcer(
    bot: Bot, uow_factory: UnitOfWorkFactory, outbox: Outbox | None = None
) -> Callable[[Applied], Awaitable[None]]:
    sender = outbox or Outbox(bot, uow_factory)

    async def announce(applied: Applied) -> None:
        document = applied.document
        if document is None:
            return
        async with uow_factory() as uow:
            person = await uow.people.get(document.uploaded_by)
            if person is None or not person.reachable:
                return
            if document.organization_id is not None and not await may(
                uow, document.uploaded_by, Action.VIEW, document.organization_id
            ):
                return  # the sender lost their access meanwhile: what was read is not theirs
            t = Texts(person.language)
            markup = None
            if applied.outcome is ReadOutcome.RETAKE:
                text = t(f"retake.{applied.problem}", id=number_of(document))
                markup = retake_buttons(t, document)
            else:
                moved_to = None
                if applied.moved_from is not None and document.organization_id is not None:
                    org = await uow.organizations.get(document.organization_id)
                    moved_to = org.name if org else None
                text = render_reading(t, document, moved_to)
        chat, person_id = document.source_chat_id, document.uploaded_by
        delivery = await sender.send(
            chat, text, person_id=person_id, markup=markup, reply_to=document.source_message_id
        )
        if delivery is Delivery.REJECTED:
            # Refused as a reply (the replied message is odd somehow): as a plain message.
            await sender.send(chat, text, person_id=person_id, markup=markup)

    return announce


def retake_buttons(t: Texts, document: Document) -> InlineKeyboardMarkup:
    """The same answers as an accountant's return: a reply or a tap keeps the document."""
    builder = InlineKeyboardBuilder()
    for action in ("new", "wd"):
        builder.button(
            text=t(f"return.button_{action}"),
            callback_data=ClientAct(a=action, d=document.id or 0),
        )
    builder.adjust(1)
    return builder.as_markup()
