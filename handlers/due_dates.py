"""/duedate (move one period's due date, an extension by decree) and /schedule (an office's
cutoff and quiet hours). Button data is never trusted: every use case re-checks access."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import reporting
from core.deadlines import DueSource, ReportKind
from core.domain import OfficeSchedule
from core.errors import NotAllowed, TayukError
from core.people import KnownPerson
from core.ports import Clock, UnitOfWork
from handlers.deadlines import day_text
from handlers.editing import edit_in_place
from handlers.keyboards import organizations_chooser
from handlers.texts import Texts


class DueDateChoice(CallbackData, prefix="dd"):
    org: int
    kind: str = ""
    period: str = ""
    clear: bool = False


class ScheduleChoice(CallbackData, prefix="sc"):
    office: int
    field: str = ""  # "cut" or "quiet"
    value: str = ""  # a chosen value: "7", or "2100-0800"


class DueDateFlow(StatesGroup):
    day = State()


class ScheduleFlow(StatesGroup):
    cutoff = State()
    quiet = State()


CUTOFF_CHOICES = ("3", "5", "7", "10")
QUIET_CHOICES = ("2100-0800", "2000-0800", "2200-0700")


# --- /duedate ------------------------------------------------------------------------------


async def due_date_start(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, state: FSMContext
) -> None:
    await state.clear()
    orgs = await reporting.organizations_to_file_for(uow, person.id)
    if not orgs:
        await message.answer(t("duedate.no_orgs"))
        return
    markup = organizations_chooser(orgs, lambda org: DueDateChoice(org=org))
    await message.answer(t("duedate.choose_org"), reply_markup=markup)


async def due_date_chosen(
    query: CallbackQuery,
    callback_data: DueDateChoice,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    data = callback_data
    choices = await reporting.due_date_choices(uow, person.id, data.org, clock.now())
    org = await uow.organizations.get(data.org)
    name = org.name if org else "?"
    builder = InlineKeyboardBuilder()
    if data.clear:
        cleared = await reporting.clear_due_date_override(
            uow, person.id, data.org, data.kind, data.period
        )
        await state.clear()
        key = "duedate.cleared" if cleared else "duedate.nothing_to_clear"
        await edit_in_place(query, t(key, org=name, **_names(t, data.kind, data.period)))
    elif not data.kind:
        kinds = list(dict.fromkeys(o.kind for o, _ in choices))
        for kind in kinds:
            builder.button(
                text=t(f"report.{kind.value}"),
                callback_data=DueDateChoice(org=data.org, kind=kind.value),
            )
        builder.adjust(1)
        key = "duedate.choose_kind" if kinds else "duedate.no_reports"
        await edit_in_place(query, t(key, org=name), builder.as_markup() if kinds else None)
    elif not data.period:
        for obligation, due in choices:
            if obligation.kind.value != data.kind:
                continue
            builder.button(
                text=t(
                    "duedate.period_button",
                    period=t.period(obligation.period),
                    due=day_text(t, due.date),
                ),
                callback_data=DueDateChoice(
                    org=data.org, kind=data.kind, period=obligation.period.label
                ),
            )
        builder.adjust(1)
        report = t(f"report.{data.kind}") if data.kind in _kinds() else "?"
        await edit_in_place(
            query, t("duedate.choose_period", org=name, report=report), builder.as_markup()
        )
    else:
        chosen = next(
            (
                (o, due)
                for o, due in choices
                if o.kind.value == data.kind and o.period.label == data.period
            ),
            None,
        )
        if chosen is None:
            raise NotAllowed()
        obligation, due = chosen
        await state.set_state(DueDateFlow.day)
        await state.set_data(
            {"org": data.org, "kind": obligation.kind.value, "period": obligation.period.label}
        )
        if due.source is DueSource.OVERRIDE:
            builder.button(
                text=t("duedate.button_clear"),
                callback_data=DueDateChoice(
                    org=data.org, kind=data.kind, period=data.period, clear=True
                ),
            )
        await edit_in_place(
            query,
            t(
                "duedate.ask_date",
                org=name,
                due=day_text(t, due.date),
                **_names(t, data.kind, data.period),
            ),
            builder.as_markup() if due.source is DueSource.OVERRIDE else None,
        )
    await query.answer()


def _kinds() -> set[str]:
    return {k.value for k in ReportKind}


def _names(t: Texts, kind: str, period: str) -> dict[str, str]:
    report = t(f"report.{kind}") if kind in _kinds() else "?"
    try:
        shown = t.period(period)
    except ValueError:
        shown = "?"
    return {"report": report, "period": shown}


async def due_date_typed(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, state: FSMContext
) -> None:
    day = reporting.parse_day(message.text or "")
    if day is None:
        await message.answer(t("duedate.invalid"))
        return
    data = await state.get_data()
    try:
        await reporting.set_due_date_override(
            uow, person.id, int(data["org"]), str(data["kind"]), str(data["period"]), day
        )
    except NotAllowed:
        await state.clear()
        raise
    except TayukError as error:
        await message.answer(t(error.key, **error.params))
        return
    await state.clear()
    org = await uow.organizations.get(int(data["org"]))
    await message.answer(
        t(
            "duedate.done",
            org=org.name if org else "?",
            due=day_text(t, day),
            **_names(t, str(data["kind"]), str(data["period"])),
        )
    )


# --- /schedule -----------------------------------------------------------------------------


def _schedule_text(t: Texts, schedule: OfficeSchedule) -> str:
    return t(
        "schedule.current",
        cutoff=schedule.cutoff_days,
        offsets=", ".join(p.strip() for p in schedule.reminder_offsets.split(",")),
        reminder_at=schedule.reminder_at,
        digest_at=schedule.digest_at,
        quiet_from=schedule.quiet_from,
        quiet_until=schedule.quiet_until,
    )


def _schedule_markup(t: Texts, office_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("schedule.button_cutoff"),
        callback_data=ScheduleChoice(office=office_id, field="cut"),
    )
    builder.button(
        text=t("schedule.button_quiet"),
        callback_data=ScheduleChoice(office=office_id, field="quiet"),
    )
    builder.adjust(1)
    return builder.as_markup()


async def schedule_start(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, state: FSMContext
) -> None:
    await state.clear()
    offices = await reporting.offices_to_schedule(uow, person.id)
    if not offices:
        await message.answer(t("schedule.not_allowed"))
        return
    if len(offices) == 1:
        schedule = await reporting.office_schedule(uow, person.id, offices[0])
        await message.answer(
            _schedule_text(t, schedule), reply_markup=_schedule_markup(t, offices[0])
        )
        return
    builder = InlineKeyboardBuilder()
    for office_id in offices:
        office = await uow.offices.get(office_id)
        builder.button(
            text=office.name if office else "?", callback_data=ScheduleChoice(office=office_id)
        )
    builder.adjust(1)
    await message.answer(t("schedule.choose_office"), reply_markup=builder.as_markup())


async def schedule_chosen(
    query: CallbackQuery,
    callback_data: ScheduleChoice,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
) -> None:
    data = callback_data
    schedule = await reporting.office_schedule(uow, person.id, data.office)  # checks access
    builder = InlineKeyboardBuilder()
    if data.field == "cut" and data.value:
        if not data.value.isdigit():
            raise NotAllowed()
        schedule = await reporting.update_office_schedule(
            uow, person.id, data.office, cutoff_days=int(data.value)
        )
        await state.clear()
        await edit_in_place(query, _schedule_text(t, schedule), _schedule_markup(t, data.office))
    elif data.field == "quiet" and data.value:
        start, _, end = data.value.partition("-")
        schedule = await reporting.update_office_schedule(
            uow,
            person.id,
            data.office,
            quiet_from=f"{start[:2]}:{start[2:]}",
            quiet_until=f"{end[:2]}:{end[2:]}",
        )
        await state.clear()
        await edit_in_place(query, _schedule_text(t, schedule), _schedule_markup(t, data.office))
    elif data.field == "cut":
        for value in CUTOFF_CHOICES:
            builder.button(
                text=t("schedule.days_button", days=value),
                callback_data=ScheduleChoice(office=data.office, field="cut", value=value),
            )
        builder.adjust(4)
        await state.set_state(ScheduleFlow.cutoff)
        await state.set_data({"office": data.office})
        await edit_in_place(
            query,
            t("schedule.ask_cutoff", most=reporting.CUTOFF_DAYS_MAX),
            builder.as_markup(),
        )
    elif data.field == "quiet":
        for value in QUIET_CHOICES:
            start, _, end = value.partition("-")
            builder.button(
                text=f"{start[:2]}:{start[2:]}–{end[:2]}:{end[2:]}",
                callback_data=ScheduleChoice(office=data.office, field="quiet", value=value),
            )
        builder.adjust(1)
        await state.set_state(ScheduleFlow.quiet)
        await state.set_data({"office": data.office})
        await edit_in_place(query, t("schedule.ask_quiet"), builder.as_markup())
    else:
        await edit_in_place(query, _schedule_text(t, schedule), _schedule_markup(t, data.office))
    await query.answer()


async def schedule_typed(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, state: FSMContext
) -> None:
    current = await state.get_state()
    office_id = int((await state.get_data())["office"])
    text = (message.text or "").strip()
    try:
        if current == ScheduleFlow.cutoff.state:
            if not text.isdigit():
                raise TayukError("schedule.bad_cutoff", most=reporting.CUTOFF_DAYS_MAX)
            schedule = await reporting.update_office_schedule(
                uow, person.id, office_id, cutoff_days=int(text)
            )
        else:
            start, _, end = text.replace("–", "-").replace(" ", "").partition("-")
            schedule = await reporting.update_office_schedule(
                uow, person.id, office_id, quiet_from=start, quiet_until=end
            )
    except NotAllowed:
        await state.clear()
        raise
    except TayukError as error:
        await message.answer(t(error.key, **error.params))
        return
    await state.clear()
    await message.answer(
        t("schedule.saved") + "\n\n" + _schedule_text(t, schedule),
        reply_markup=_schedule_markup(t, office_id),
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(due_date_start, Command("duedate"))
    router.message.register(schedule_start, Command("schedule"))
    router.callback_query.register(due_date_chosen, DueDateChoice.filter())
    router.callback_query.register(schedule_chosen, ScheduleChoice.filter())
    router.message.register(
        due_date_typed, StateFilter(DueDateFlow.day), F.text, ~F.text.startswith("/")
    )
    router.message.register(
        schedule_typed,
        StateFilter(ScheduleFlow.cutoff, ScheduleFlow.quiet),
        F.text,
        ~F.text.startswith("/"),
    )
    return router
