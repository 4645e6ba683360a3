"""/vat, /export, /accounts and /rate: a period's VAT picture, the ledger exports (the file
comes back as a document), closing and reopening a period, the office's account mapping
and the representative rates. Button data is never trusted: every use case re-checks."""

from __future__ import annotations

import io
import re
import tempfile
from datetime import datetime
from pathlib import Path

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    FSInputFile,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import expected
from core.books import service
from core.books.accounts import DEFAULT_SETTINGS, Bookkeeping
from core.books.entries import REASONS
from core.books.movein import MoveinConvention
from core.books.records import ExportFormat
from core.books.spreadsheet import COLUMNS, SUMMARY
from core.categories import CATEGORIES
from core.deadlines.periods import Period
from core.errors import NotAllowed, TayukError
from core.people import KnownPerson
from core.permissions import Action, may, may_in_office
from core.ports import Clock, FileStore, UnitOfWork
from handlers.callbacks import BooksAct
from handlers.editing import edit_in_place
from handlers.keyboards import organizations_chooser
from handlers.review import show_card
from handlers.settings import HANDLER_DEFAULTS, HandlerSettings
from handlers.texts import Texts


class BooksFlow(StatesGroup):
    reopen_reason = State()
    accounts = State()


def export_labels(t: Texts) -> dict[str, str]:
    """Column, sheet, category and reason names for the files, in the person's language."""
    labels = {f"column.{c}": t(f"export.column.{c}") for c in (*COLUMNS, "totals")}
    labels |= {f"summary.{k}": t(f"export.summary.{k}") for k in SUMMARY}
    labels |= {
        f"reason.{r}": t(f"export.reason.{r}") for r in (*REASONS, "allocation_at_threshold")
    }
    labels |= {f"category.{c}": t(f"category.{c}") for c in CATEGORIES}
    labels |= {
        f"account.{k}": t(f"export.account.{k}")
        for k in ("input_vat", "equipment_vat", "suppliers")
    }
    labels |= {f"sheet.{s}": t(f"export.sheet.{s}") for s in ("documents", "summary")}
    return labels


def _parse_period(label: str) -> Period:
    try:
        return Period.parse(label)
    except ValueError:
        raise NotAllowed() from None


async def _organizations(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, mode: str, now: datetime
) -> None:
    found = await service.exportable_organizations(uow, person.id)
    if not found:
        await message.answer(t("books.no_orgs"))
        return
    if len(found) == 1 and found[0].id is not None:
        text, markup = await _periods_screen(uow, person.id, found[0].id, t, mode, now)
        await message.answer(text, reply_markup=markup)
        return
    markup = organizations_chooser(
        sorted(found, key=lambda o: o.name), lambda org: BooksAct(m=mode, a="o", o=org)
    )
    await message.answer(t("books.choose_org"), reply_markup=markup)


async def vat_start(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    await state.clear()
    await _organizations(message, uow, person, t, "v", clock.now())


async def export_start(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    await state.clear()
    await _organizations(message, uow, person, t, "x", clock.now())


async def _periods_screen(
    uow: UnitOfWork, person_id: int, org_id: int, t: Texts, mode: str, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    if not await may(uow, person_id, Action.EXPORT, org_id):
        raise NotAllowed()
    organization = await uow.organizations.get(org_id)
    if organization is None:
        raise NotAllowed()
    closed = await uow.books.closed_periods(org_id)
    builder = InlineKeyboardBuilder()
    for period in service.recent_periods(organization, now.date(), closed):
        name = t.period(period)
        text = t("books.period_closed_button", period=name) if period.label in closed else name
        builder.button(text=text, callback_data=BooksAct(m=mode, a="p", o=org_id, p=period.label))
    builder.adjust(1)
    return t("books.choose_period", org=organization.name), builder.as_markup()


async def _picture_screen(
    uow: UnitOfWork, person_id: int, org_id: int, period: Period, t: Texts, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    books = await service.load_period(uow, person_id, org_id, period)
    p = books.picture
    lines = [
        t("books.picture_title", org=books.organization.name, period=t.period(period)),
        t(
            "books.picture",
            documents=p.filed.documents,
            net=t.amount(p.filed.net),
            vat=t.amount(p.filed.vat),
            total=t.amount(p.filed.total),
            deductible=t.amount(p.filed.deductible_vat),
            equipment=t.amount(p.equipment.deductible_vat),
            other=t.amount(p.other.deductible_vat),
            not_deductible=t.amount(p.filed.non_deductible_vat),
        ),
    ]
    for reason in REASONS:
        part = p.not_deducted.get(reason)
        if part is not None:
            lines.append(
                t(
                    "books.reason_line",
                    reason=t(f"export.reason.{reason}"),
                    amount=t.amount(part.non_deductible_vat),
                    count=part.documents,
                )
            )
    if p.at_threshold:
        lines.append(t("books.at_threshold", count=p.at_threshold))
    if p.credit_notes:
        lines.append(t("books.credit_notes", count=p.credit_notes))
    if books.missing_rates:
        first = books.missing_rates[0]
        lines.append(
            t(
                "books.missing_rate",
                currency=first.currency,
                day=t.date(first.day),
                count=len(books.missing_rates),
            )
        )
    lines.append(t("books.waiting", to_file=p.to_file, returned=p.returned))
    # Smart filing (issue 17): recurring vendors' invoices of the period's months not received.
    for month in expected.months_over(period.start, period.end, now):
        for item in await expected.missing(uow, org_id, month, now):
            lines.append(t("books.expected_missing", vendor=item.name, month=t.period(month)))
    if books.exports:
        last = books.exports[-1]
        lines.append(
            t("books.exported_before", count=len(books.exports), day=t.date(last.created_at))
        )
    if books.closed:
        lines.append(t("books.is_closed"))
    elif p.ready:
        lines.append(t("books.is_ready"))
    bookkeeping = await uow.books.bookkeeping(org_id)
    lines.append(t(f"books.bookkeeping_{bookkeeping.value}"))
    builder = InlineKeyboardBuilder()
    label = period.label
    builder.button(
        text=t("books.button_export"), callback_data=BooksAct(m="x", a="p", o=org_id, p=label)
    )
    if books.closed and p.to_file and await may(uow, person_id, Action.REVIEW, org_id):
        # Late documents of a closed period: input VAT may be claimed in a later period.
        builder.button(
            text=t("books.button_move", count=p.to_file),
            callback_data=BooksAct(m="v", a="m", o=org_id, p=label),
        )
    if books.closed:
        if await may(uow, person_id, Action.REOPEN_PERIOD, org_id):
            builder.button(
                text=t("books.button_reopen"),
                callback_data=BooksAct(m="v", a="r", o=org_id, p=label),
            )
    else:
        builder.button(
            text=t("books.button_close"), callback_data=BooksAct(m="v", a="c", o=org_id, p=label)
        )
    builder.button(
        text=t("books.button_bookkeeping"), callback_data=BooksAct(m="v", a="k", o=org_id, p=label)
    )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def _formats(t: Texts, org_id: int, label: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for fmt in ExportFormat:
        builder.button(
            text=t(f"books.format_{fmt.value}"),
            callback_data=BooksAct(m="x", a="f", o=org_id, p=label, f=fmt.value),
        )
    builder.adjust(1)
    return builder.as_markup()


async def books_pressed(
    query: CallbackQuery,
    callback_data: BooksAct,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
    files: FileStore,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
) -> None:
    data = callback_data
    convention = MoveinConvention(handler_settings.movein_convention)
    now = clock.now()
    if data.a == "o":
        text, markup = await _periods_screen(uow, person.id, data.o, t, data.m, now)
        await edit_in_place(query, text, markup)
    elif data.a == "p":
        period = _parse_period(data.p)
        if data.m == "x":
            if not await may(uow, person.id, Action.EXPORT, data.o):
                raise NotAllowed()
            organization = await uow.organizations.get(data.o)
            name = organization.name if organization else "?"
            await edit_in_place(
                query,
                t("books.choose_format", org=name, period=t.period(period)),
                _formats(t, data.o, data.p),
            )
        else:
            text, markup = await _picture_screen(uow, person.id, data.o, period, t, now)
            await edit_in_place(query, text, markup)
    elif data.a == "f":
        try:
            fmt = ExportFormat(data.f)
        except ValueError:
            raise NotAllowed() from None
        await query.answer(t("books.exporting"))
        await _send_export(
            query, uow, person.id, data.o, _parse_period(data.p), fmt, t, now, convention
        )
        return
    elif data.a == "c":
        period = _parse_period(data.p)
        done = await service.close_period(uow, person.id, data.o, period, now)
        text, markup = await _picture_screen(uow, person.id, data.o, period, t, now)
        key = "books.closed_done" if done else "books.already_closed"
        await edit_in_place(query, t(key, period=t.period(period)) + "\n\n" + text, markup)
    elif data.a == "r":
        if not await may(uow, person.id, Action.REOPEN_PERIOD, data.o):
            raise NotAllowed()
        await state.set_state(BooksFlow.reopen_reason)
        await state.set_data({"org": data.o, "period": data.p})
        await edit_in_place(query, t("books.reopen_ask", period=t.period(_parse_period(data.p))))
    elif data.a == "m":
        period = _parse_period(data.p)
        count, target = await service.move_waiting(uow, person.id, data.o, period, now)
        text, markup = await _picture_screen(uow, person.id, data.o, period, t, now)
        moved = t("books.moved", count=count, period=t.period(target or period))
        await edit_in_place(query, moved + "\n\n" + text, markup)
    elif data.a == "l":
        await _move_one(query, uow, files, person, t, data.o, now)
        return
    elif data.a == "k":
        period = _parse_period(data.p)
        current = await uow.books.bookkeeping(data.o)
        other = Bookkeeping.SINGLE if current is Bookkeeping.DOUBLE else Bookkeeping.DOUBLE
        await service.set_bookkeeping(uow, person.id, data.o, other, now)
        text, markup = await _picture_screen(uow, person.id, data.o, period, t, now)
        await edit_in_place(query, text, markup)
    else:
        raise NotAllowed()
    await query.answer()


async def _send_export(
    query: CallbackQuery,
    uow: UnitOfWork,
    person_id: int,
    org_id: int,
    period: Period,
    fmt: ExportFormat,
    t: Texts,
    now: datetime,
    convention: MoveinConvention,
) -> None:
    message = query.message
    if not isinstance(message, Message):
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export"
        try:
            with path.open("w+b") as out:
                record = await service.export(
                    uow,
                    person_id,
                    org_id,
                    period,
                    fmt,
                    out,
                    now,
                    labels=export_labels(t),
                    right_to_left=t.language == "he",
                    convention=convention,
                )
        except service.BooksError as error:
            params = dict(error.params)
            if "day" in params:
                params["day"] = t.date(params["day"])
            await message.answer(t(error.key, **params))
            return
        await message.answer_document(
            FSInputFile(path, filename=record.file_name),
            caption=t(
                "books.exported",
                format=t(f"books.format_{fmt.value}"),
                period=t.period(period),
                count=record.document_count,
                sha=record.sha256[:12],
            ),
        )


async def reopen_reason_typed(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    period = _parse_period(str(data.get("period", "")))
    org_id = int(data.get("org", 0))
    try:
        await service.reopen_period(
            uow, person.id, org_id, period, message.text or "", clock.now()
        )
    except service.BooksError as error:
        await message.answer(t(error.key, **error.params))
        return
    finally:
        if await state.get_state() is not None and (message.text or "").strip():
            await state.clear()
    text, markup = await _picture_screen(uow, person.id, org_id, period, t, clock.now())
    await message.answer(
        t("books.reopened", period=t.period(period)) + "\n\n" + text, reply_markup=markup
    )


# --- a late document's card ----------------------------------------------------------------


async def _move_one(
    query: CallbackQuery,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    document_id: int,
    now: datetime,
) -> None:
    target = await service.move_to_open_period(uow, person.id, document_id, now)
    document = await uow.documents.get(document_id)
    message = query.message
    if document is None or document.organization_id is None or not isinstance(message, Message):
        return
    organization = await uow.organizations.get(document.organization_id)
    await query.answer(t("books.moved_one", period=t.period(target)))
    await edit_in_place(query, None, None)  # the old card's buttons carry an old version
    assert message.bot is not None
    await show_card(
        message.bot,
        message.chat.id,
        uow,
        files,
        t,
        document,
        organization.name if organization else "?",
    )


# --- /accounts: the office's ledger accounts -------------------------------------------------


async def _office_of(uow: UnitOfWork, person_id: int) -> int | None:
    for member in await uow.offices.memberships(person_id):
        if await may_in_office(uow, person_id, Action.MANAGE_TEAM, member.office_id):
            return member.office_id
    return None


async def _accounts_text(uow: UnitOfWork, office_id: int, t: Texts) -> str:
    from core.books.accounts import AccountPlan

    plan = AccountPlan.of(await uow.books.mappings(office_id))
    lines = [t("accounts.title")]
    lines += [
        t("accounts.line", name=t(f"category.{c}"), account=plan.expense[c]) for c in CATEGORIES
    ]
    lines += [
        t(
            "accounts.line",
            name=t(f"export.account.{k}")
            if k != "supplier_prefix"
            else t("accounts.supplier_prefix"),
            account=plan.settings.get(k, v),
        )
        for k, v in DEFAULT_SETTINGS.items()
    ]
    if plan.suppliers:
        lines.append(t("accounts.suppliers", count=len(plan.suppliers)))
    lines += ["", t("accounts.how_to")]
    return "\n".join(lines)


async def accounts_start(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, state: FSMContext
) -> None:
    office_id = await _office_of(uow, person.id)
    if office_id is None:
        await message.answer(t("accounts.not_manager"))
        return
    await state.set_state(BooksFlow.accounts)
    await state.set_data({"office": office_id})
    await message.answer(await _accounts_text(uow, office_id, t))


_LINE = re.compile(r"^\s*(\S+)\s+(\S+)(?:\s+(\S+))?\s*$")


async def accounts_typed(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    """Lines "vehicle 6110", "input_vat 1800" or "supplier 514713288 40021"."""
    office_id = int((await state.get_data()).get("office", 0))
    changed = 0
    for line in (message.text or "").splitlines():
        if not line.strip():
            continue
        found = _LINE.match(line)
        if found is None:
            await message.answer(t("accounts.bad_line", line=line[:60]))
            return
        first, second, third = found.groups()
        if first.lower() == "supplier" and third:
            kind, key, account = "supplier", second, third
        elif first in DEFAULT_SETTINGS:
            kind, key, account = "setting", first, second
        else:
            kind, key, account = "expense", first, second
        try:
            await service.set_mapping(uow, person.id, office_id, kind, key, account, clock.now())
        except service.BooksError as error:
            await message.answer(
                t(error.key, **error.params) + "\n" + t("accounts.bad_line", line=line[:60])
            )
            return
        changed += 1
    await state.clear()
    await message.answer(
        t("accounts.saved", count=changed) + "\n\n" + await _accounts_text(uow, office_id, t)
    )


async def accounts_file(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    assert message.document is not None and message.bot is not None
    office_id = int((await state.get_data()).get("office", 0))
    if (message.document.file_size or 0) > 1 << 20:
        await message.answer(t("books.invalid_file"))
        return
    await uow.release()  # no transaction held across the download
    downloaded = await message.bot.download(message.document.file_id, destination=io.BytesIO())
    assert downloaded is not None
    try:
        count = await service.import_mapping(
            uow, person.id, office_id, downloaded.read(), clock.now()
        )
    except TayukError as error:
        if isinstance(error, NotAllowed):
            await state.clear()
            raise
        await message.answer(t(error.key, **error.params))
        return
    await state.clear()
    await message.answer(
        t("accounts.imported", count=count) + "\n\n" + await _accounts_text(uow, office_id, t)
    )


# --- /rate USD 05.11.2026 3.712 --------------------------------------------------------------


async def rate_command(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
) -> None:
    parts = (command.args or "").split()
    if len(parts) != 3:
        await message.answer(t("books.rate_usage"))
        return
    currency, raw_day, raw_rate = parts
    try:
        from core.review import validate

        day = datetime.fromisoformat(validate("date", raw_day)).date()
    except TayukError:
        await message.answer(t("books.rate_usage"))
        return
    try:
        rate = await service.set_rate(uow, person.id, currency, day, raw_rate, clock.now())
    except service.BooksError as error:
        await message.answer(t(error.key, **error.params))
        return
    await message.answer(
        t("books.rate_saved", currency=currency.upper(), day=t.date(day), rate=str(rate))
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(vat_start, Command("vat"))
    router.message.register(export_start, Command("export"))
    router.message.register(accounts_start, Command("accounts"))
    router.message.register(rate_command, Command("rate"))
    router.callback_query.register(books_pressed, BooksAct.filter())
    router.message.register(
        reopen_reason_typed, StateFilter(BooksFlow.reopen_reason), F.text, ~F.text.startswith("/")
    )
    router.message.register(
        accounts_typed, StateFilter(BooksFlow.accounts), F.text, ~F.text.startswith("/")
    )
    router.message.register(accounts_file, StateFilter(BooksFlow.accounts), F.document)
    return router
