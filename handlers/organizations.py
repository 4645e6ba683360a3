"""/neworg (an accountant opens a client), the office's self-join link and its
conversation, and /org (which organization a person is working in)."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import access, organizations, team
from core.clock import Clock
from core.domain import DealerType, VatFrequency
from core.errors import MailFailed, MailNotConfigured, NotAllowed, TayukError
from core.people import KnownPerson
from core.permissions import Action, may_in_office
from core.ports import Mailer, Notifier, UnitOfWork
from handlers import menu
from handlers.callbacks import NewOrgChoice, OrgSwitch
from handlers.keyboards import one_a_line
from handlers.links import invite_link, send_link
from handlers.mail import address_lines
from handlers.settings import HANDLER_DEFAULTS, HandlerSettings
from handlers.texts import Texts


class NewOrg(StatesGroup):
    name = State()
    number = State()
    dealer_type = State()
    vat = State()
    email = State()


class SelfJoin(StatesGroup):
    name = State()
    number = State()
    dealer_type = State()


def ttl_of(handler_settings: HandlerSettings) -> timedelta:
    return timedelta(days=handler_settings.invite_ttl_days)


def choices(t: Texts, field: str, values: list[str], prefix: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for value in values:
        builder.button(
            text=t(f"{prefix}.{value}"), callback_data=NewOrgChoice(field=field, value=value)
        )
    builder.adjust(1)
    return builder.as_markup()


def person_dealer_types(t: Texts) -> InlineKeyboardMarkup:
    # A personal id number says nothing about the kind of dealer; the two a person can be.
    return choices(t, "type", [DealerType.LICENSED.value, DealerType.EXEMPT.value], "dealer")


async def _office_for_new_clients(uow: UnitOfWork, person: KnownPerson) -> int:
    for member in await team.offices_of(uow, person.id):
        if await may_in_office(uow, person.id, Action.INVITE, member.office_id):
            return member.office_id
    raise NotAllowed()


# --- /neworg -----------------------------------------------------------------------------


async def new_org(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, state: FSMContext
) -> None:
    office_id = await _office_for_new_clients(uow, person)
    await state.set_state(NewOrg.name)
    await state.set_data({"office": office_id})
    await message.answer(t("neworg.ask_name"))


async def new_org_name(message: Message, t: Texts, state: FSMContext) -> None:
    name = (message.text or "").strip()
    if not name or len(name) > 200:
        await message.answer(t("neworg.ask_name"))
        return
    await state.update_data(name=name)
    await state.set_state(NewOrg.number)
    await message.answer(t("neworg.ask_number"))


async def new_org_number(message: Message, t: Texts, state: FSMContext) -> None:
    try:
        number = organizations.normalise_business_number(message.text or "")
    except TayukError as error:
        await message.answer(t(error.key))
        return
    await state.update_data(number=number)
    inferred = organizations.dealer_type_of(number)
    if inferred is None:
        await state.set_state(NewOrg.dealer_type)
        await message.answer(t("neworg.ask_type"), reply_markup=person_dealer_types(t))
        return
    await state.update_data(dealer_type=inferred.value)
    await state.set_state(NewOrg.vat)
    await message.answer(
        t("neworg.type_inferred", type=t(f"dealer.{inferred.value}")) + "\n" + t("neworg.ask_vat"),
        reply_markup=choices(t, "vat", [v.value for v in VatFrequency], "vat"),
    )


async def new_org_type(
    query: CallbackQuery, callback_data: NewOrgChoice, t: Texts, state: FSMContext
) -> None:
    await state.update_data(dealer_type=DealerType(callback_data.value).value)
    await state.set_state(NewOrg.vat)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            t("neworg.ask_vat"),
            reply_markup=choices(t, "vat", [v.value for v in VatFrequency], "vat"),
        )


async def new_org_vat(
    query: CallbackQuery, callback_data: NewOrgChoice, t: Texts, state: FSMContext
) -> None:
    await state.update_data(vat=VatFrequency(callback_data.value).value)
    await state.set_state(NewOrg.email)
    await query.answer()
    if isinstance(query.message, Message):
        builder = InlineKeyboardBuilder()
        builder.button(text=t("neworg.button_no_email"), callback_data=NewOrgChoice(field="mail"))
        await query.message.answer(t("neworg.ask_email"), reply_markup=builder.as_markup())


async def new_org_email(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
    bot: Bot,
    clock: Clock,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
    mailer: Mailer | None = None,
) -> None:
    try:
        email = organizations.normalise_email(message.text or "")
    except TayukError as error:
        await message.answer(t(error.key))
        return
    await _create(message, uow, person, t, state, bot, clock, handler_settings, mailer, email)


async def new_org_no_email(
    query: CallbackQuery,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
    bot: Bot,
    clock: Clock,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _create(
            query.message, uow, person, t, state, bot, clock, handler_settings, None, None
        )


async def _create(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
    bot: Bot,
    clock: Clock,
    handler_settings: HandlerSettings,
    mailer: Mailer | None,
    email: str | None,
) -> None:
    data = await state.get_data()
    await state.clear()
    organization, issued = await organizations.new_client_organization(
        uow,
        actor_id=person.id,
        office_id=int(data["office"]),
        name=str(data["name"]),
        business_number=str(data["number"]),
        dealer_type=DealerType(data["dealer_type"]),
        vat_frequency=VatFrequency(data["vat"]),
        email=email,
        now=clock.now(),
        ttl=ttl_of(handler_settings),
    )
    link = await invite_link(bot, issued.token)
    await send_link(message, link, t("neworg.created", org=organization.name))
    if email is None:
        return
    try:
        if mailer is None:
            raise MailNotConfigured()
        await organizations.email_invitation(
            uow,
            mailer,
            actor_id=person.id,
            organization=organization,
            subject=t("mail.subject", org=organization.name),
            body=t("mail.body", org=organization.name, link=link),
        )
    except (MailNotConfigured, MailFailed) as error:
        await message.answer(t(error.key))
        return
    await message.answer(t("neworg.emailed", email=email))


async def cancel(message: Message, t: Texts, state: FSMContext) -> None:
    await state.clear()
    await message.answer(t("neworg.cancelled"))


# --- the office's self-join link ---------------------------------------------------------


async def join_link(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    bot: Bot,
    clock: Clock,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
) -> None:
    office_id = await _office_for_new_clients(uow, person)
    issued = await access.self_join_link(
        uow, actor_id=person.id, office_id=office_id, now=clock.now(), ttl=ttl_of(handler_settings)
    )
    await send_link(message, await invite_link(bot, issued.token), t("selfjoin.link"))


async def begin_self_join(
    message: Message, t: Texts, state: FSMContext, office: str, token: str
) -> None:
    """Called by /start with a self-join token. The token waits in the conversation's state
    (memory only, never logged) until the client has answered."""
    await state.set_state(SelfJoin.name)
    await state.set_data({"token": token})
    await message.answer(t("selfjoin.welcome", office=office))


async def self_join_name(message: Message, t: Texts, state: FSMContext) -> None:
    name = (message.text or "").strip()
    if not name or len(name) > 200:
        await message.answer(t("neworg.ask_name"))
        return
    await state.update_data(name=name)
    await state.set_state(SelfJoin.number)
    await message.answer(t("neworg.ask_number"))


async def self_join_number(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
    clock: Clock,
    notifier: Notifier | None = None,
) -> None:
    try:
        number = organizations.normalise_business_number(message.text or "")
    except TayukError as error:
        await message.answer(t(error.key))
        return
    await state.update_data(number=number)
    if organizations.dealer_type_of(number) is None:
        await state.set_state(SelfJoin.dealer_type)
        await message.answer(t("neworg.ask_type"), reply_markup=person_dealer_types(t))
        return
    await _self_join(message, uow, person, t, state, clock, notifier, None)


async def self_join_type(
    query: CallbackQuery,
    callback_data: NewOrgChoice,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
    clock: Clock,
    notifier: Notifier | None = None,
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        dealer_type = DealerType(callback_data.value)
        await _self_join(query.message, uow, person, t, state, clock, notifier, dealer_type)


async def _self_join(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
    clock: Clock,
    notifier: Notifier | None,
    dealer_type: DealerType | None,
) -> None:
    data = await state.get_data()
    await state.clear()
    joined = await access.self_join(
        uow,
        notifier,
        person=person,
        token=str(data["token"]),
        name=str(data["name"]),
        business_number=str(data["number"]),
        dealer_type=dealer_type,
        now=clock.now(),
    )
    await message.answer(
        t("selfjoin.done", org=joined.organization.name, office=joined.office.name)
    )
    if message.bot is not None:
        await menu.refresh(message.bot, uow, person.id, person.language)


# --- /org --------------------------------------------------------------------------------


async def choose_org(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
) -> None:
    found = await access.switchable_organizations(uow, person.id)
    # Where each organization's documents can be forwarded by e-mail (issue 14).
    addresses = await address_lines(uow, person, t, handler_settings)
    if not found:
        await message.answer(t("org.none"))
        return
    markup = one_a_line(
        (("✓ " if org.id == person.current_org_id else "") + org.name, OrgSwitch(org=org.id or 0))
        for org in found
    )
    text = "\n\n".join([t("org.choose"), "\n".join(addresses)]) if addresses else t("org.choose")
    await message.answer(text, reply_markup=markup)


async def switch_org(
    query: CallbackQuery,
    callback_data: OrgSwitch,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
) -> None:
    org = await access.switch_organization(uow, person, callback_data.org, clock.now())
    await query.answer(t("org.switched", org=org.name))
    if isinstance(query.message, Message):
        await query.message.answer(t("org.switched", org=org.name))


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(cancel, Command("cancel"))
    router.message.register(new_org, Command("neworg"))
    router.message.register(join_link, Command("joinlink"))
    router.message.register(choose_org, Command("org"))
    router.message.register(new_org_name, NewOrg.name, F.text)
    router.message.register(new_org_number, NewOrg.number, F.text)
    router.message.register(new_org_email, NewOrg.email, F.text)
    router.message.register(self_join_name, SelfJoin.name, F.text)
    router.message.register(self_join_number, SelfJoin.number, F.text)
    types = [DealerType.LICENSED.value, DealerType.EXEMPT.value]
    router.callback_query.register(
        new_org_type,
        NewOrg.dealer_type,
        NewOrgChoice.filter((F.field == "type") & F.value.in_(types)),
    )
    router.callback_query.register(
        new_org_vat,
        NewOrg.vat,
        NewOrgChoice.filter((F.field == "vat") & F.value.in_([v.value for v in VatFrequency])),
    )
    router.callback_query.register(
        new_org_no_email, NewOrg.email, NewOrgChoice.filter(F.field == "mail")
    )
    router.callback_query.register(
        self_join_type,
        SelfJoin.dealer_type,
        NewOrgChoice.filter((F.field == "type") & F.value.in_(types)),
    )
    router.callback_query.register(switch_org, OrgSwitch.filter())
    return router
