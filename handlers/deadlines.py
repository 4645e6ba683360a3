"""/deadlines and /filed, and the texts of reminders and digests the scheduler sends."""

from __future__ import annotations

import logging
from datetime import date

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import reporting
from core.deadlines import DueDate
from core.people import KnownPerson
from core.ports import Clock, UnitOfWork
from core.reporting import AnswerNotice, Deadline, DigestNotice, Notice, ReminderNotice
from handlers.callbacks import ExpectedAct
from handlers.editing import edit_in_place
from handlers.expected import short
from handlers.keyboards import organizations_chooser
from handlers.outbox import Outbox
from handlers.texts import Texts

log = logging.getLogger(__name__)


class FiledChoice(CallbackData, prefix="fd"):
    """Organization first; then the report. Never trusted: the use case re-checks access."""

    org: int
    kind: str = ""
    period: str = ""


# --- rendering -----------------------------------------------------------------------------


def day_text(t: Texts, day: date) -> str:
    return t.date(day)


def _due(t: Texts, due: DueDate) -> dict[str, str]:
    return {
        "due": day_text(t, due.date),
        "estimate": t("deadlines.estimate") if due.estimate else "",
    }


def render_reminder(t: Texts, notice: ReminderNotice) -> str:
    first = notice.reminders[0]
    lines = [
        t(
            f"reminder.{notice.tone.value}",
            org=notice.organization.name,
            period=t.period(first.obligation.period),
            cutoff=day_text(t, first.cutoff),
        )
    ]
    for reminder in notice.reminders:
        estimate = t("deadlines.estimate") if reminder.due_is_estimate else ""
        report = t(f"report.{reminder.obligation.kind.value}")
        lines.append(
            t("reminder.report", report=report, due=day_text(t, reminder.due), estimate=estimate)
        )
    if notice.documents_sent:
        lines.append(t("reminder.have", count=notice.documents_sent))
    else:
        lines.append(t("reminder.have_none"))
    if notice.returned_waiting:
        lines.append(t("reminder.returned", count=notice.returned_waiting))
    for vendor, month, _ in notice.missing:  # smart filing (issue 17): expected, not received
        lines.append(t("expected.client_line", vendor=vendor, month=t.period(month)))
    if notice.missing:
        lines.append(t("expected.reminder_answer"))
    return "\n".join(lines)


def render_digest(t: Texts, notice: DigestNotice) -> str:
    lines = [t("digest.title", day=day_text(t, notice.day))]
    if notice.to_file:
        lines += ["", t("digest.to_file")]
        lines += [t("digest.to_file_line", org=o.name, count=n) for o, n in notice.to_file]
    if notice.due_soon:
        lines += ["", t("digest.due")]
        for d in notice.due_soon:
            lines.append(
                t(
                    "digest.due_line",
                    org=d.organization.name,
                    report=t(f"report.{d.obligation.kind.value}"),
                    period=t.period(d.obligation.period),
                    **_due(t, d.due),
                )
            )
            books = notice.books.get((d.organization.id or 0, d.obligation.period.label))
            if books is not None:  # a VAT report: can its period be exported, was it?
                ready, exported = books
                lines.append(
                    t(
                        "digest.books",
                        ready=t("digest.books_ready" if ready else "digest.books_waiting"),
                        exported=t(
                            "digest.books_exported" if exported else "digest.books_not_exported"
                        ),
                    )
                )
    if notice.returned:
        lines += ["", t("digest.returned")]
        lines += [t("digest.returned_line", org=o.name, count=n) for o, n in notice.returned]
    if len(lines) == 1:
        lines.append(t("digest.all_clear"))
    return "\n".join(lines)


def notice_markup(notice: Notice) -> InlineKeyboardMarkup | None:
    """A reminder naming expected invoices that have not come carries, for each, the
    client's one-tap "there is none this month" (smart filing, issue 17)."""
    if not isinstance(notice, ReminderNotice) or not notice.missing:
        return None
    t = Texts(notice.recipient.language)
    builder = InlineKeyboardBuilder()
    for name, month, vendor in notice.missing:
        builder.button(
            text=t("expected.button_none", vendor=name),
            callback_data=ExpectedAct(
                o=notice.organization.id or 0, v=short(vendor), p=month, r=1
            ),
        )
    builder.adjust(1)
    return builder.as_markup()


def render_notice(notice: Notice) -> str:
    t = Texts(notice.recipient.language)
    if isinstance(notice, ReminderNotice):
        return render_reminder(t, notice)
    if isinstance(notice, AnswerNotice):
        return t(
            "review.client_answered",
            client=notice.client,
            id=notice.number,
            org=notice.organization,
        )
    return render_digest(t, notice)


def render_deadlines(t: Texts, deadlines: list[Deadline], *, office: bool, today: date) -> str:
    if not deadlines:
        return t("deadlines.none")
    if not office:
        lines = [t("deadlines.title_client")]
        for d in deadlines:
            names = {
                "org": d.organization.name,
                "report": t(f"report.{d.obligation.kind.value}"),
                "period": t.period(d.obligation.period),
            }
            if d.filed:
                lines.append(t("deadlines.client_filed", **names))
            else:
                cutoff = day_text(t, d.cutoff)
                lines.append(t("deadlines.client_line", cutoff=cutoff, **names, **_due(t, d.due)))
        return "\n".join(lines)
    lines = [t("deadlines.title_office")]
    by_org: dict[int, list[Deadline]] = {}
    for d in deadlines:
        by_org.setdefault(d.organization.id or 0, []).append(d)
    for group in by_org.values():
        lines += [
            "",
            t(
                "deadlines.org",
                org=group[0].organization.name,
                documents=group[0].documents_to_file,
            ),
        ]
        for d in group:
            state = "filed" if d.filed else ("late" if d.due.date < today else "open")
            lines.append(
                t(
                    "deadlines.line",
                    report=t(f"report.{d.obligation.kind.value}"),
                    period=t.period(d.obligation.period),
                    state=t(f"deadlines.{state}"),
                    **_due(t, d.due),
                )
            )
    return "\n".join(lines)


# --- handlers ------------------------------------------------------------------------------


async def show_deadlines(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, clock: Clock
) -> None:
    now = clock.now()
    office = bool(await uow.offices.memberships(person.id))
    if office:
        found = await reporting.deadlines_for_accountant(uow, person.id, now)
    else:
        found = await reporting.deadlines_for_client(uow, person.id, now)
    today = reporting.local_day(now)
    await message.answer(render_deadlines(t, found, office=office, today=today))


async def choose_organization(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts
) -> None:
    orgs = await reporting.organizations_to_file_for(uow, person.id)
    if not orgs:
        await message.answer(t("filed.no_orgs"))
        return
    markup = organizations_chooser(orgs, lambda org: FiledChoice(org=org))
    await message.answer(t("filed.choose_org"), reply_markup=markup)


async def chosen(
    query: CallbackQuery,
    callback_data: FiledChoice,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    bot: Bot,
    outbox: Outbox | None = None,
) -> None:
    if not callback_data.kind:
        reports = await reporting.open_reports(uow, person.id, callback_data.org, clock.now())
        org = await uow.organizations.get(callback_data.org)
        name = org.name if org else "?"
        if not reports:
            await edit_in_place(query, t("filed.no_reports", org=name))
        else:
            await edit_in_place(
                query, t("filed.choose_report", org=name), _reports_keyboard(t, reports)
            )
        await query.answer()
        return
    filed = await reporting.mark_filed(
        uow, person.id, callback_data.org, callback_data.kind, callback_data.period, clock.now()
    )
    names = {
        "org": filed.organization.name,
        "period": t.period(filed.obligation.period),
    }
    key = "filed.done" if filed.newly else "filed.already"
    await edit_in_place(query, t(key, report=t(f"report.{filed.obligation.kind.value}"), **names))
    await query.answer()
    for client in filed.clients:
        ct = Texts(client.language)
        text = ct(
            "filed.client_notice", report=ct(f"report.{filed.obligation.kind.value}"), **names
        )
        sender = outbox or Outbox(bot)
        await sender.send(client.chat_id, text, person_id=client.person_id, uow=uow)


def _reports_keyboard(t: Texts, reports: list[Deadline]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for d in reports:
        assert d.organization.id is not None
        builder.button(
            text=t(
                "filed.button",
                report=t(f"report.{d.obligation.kind.value}"),
                period=t.period(d.obligation.period),
                due=day_text(t, d.due.date),
            ),
            callback_data=FiledChoice(
                org=d.organization.id,
                kind=d.obligation.kind.value,
                period=d.obligation.period.label,
            ),
        )
    builder.adjust(1)
    return builder.as_markup()


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(show_deadlines, Command("deadlines"))
    router.message.register(choose_organization, Command("filed"))
    router.callback_query.register(chosen, FiledChoice.filter())
    return router
