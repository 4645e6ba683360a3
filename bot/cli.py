"""The `tayuk` command: run the bot, migrate, and set up offices, organizations and invites."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.settings import Settings
from core import invites
from core.books.records import ExportFormat
from core.clock import SystemClock
from core.domain import AccessLevel, InviteKind, VatFrequency
from core.errors import TayukError
from core.organizations import create_office, create_organization
from handlers.texts import Texts
from storage import migrate
from storage.database import create_engine, session_factory
from storage.files import make_private_dir
from storage.orm import start_mappers
from storage.uow import SqlUnitOfWorkFactory


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tayuk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (long polling), migrating the database first")
    sub.add_parser("worker", help="run only the reading worker (more can run side by side)")
    sub.add_parser(
        "mail", help="receive documents by e-mail: the SMTP receiver and/or IMAP polling"
    )

    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument("revision", nargs="?", default=None)

    office = sub.add_parser("office", help="offices")
    office_sub = office.add_subparsers(dest="action", required=True)
    create = office_sub.add_parser("create", help="create an office; prints the owner's link")
    create.add_argument("--name", required=True)

    org = sub.add_parser("org", help="client organizations")
    org_sub = org.add_subparsers(dest="action", required=True)
    org_create = org_sub.add_parser("create", help="create a client organization")
    org_create.add_argument("--office", required=True, type=int, help="office id")
    org_create.add_argument("--name", required=True)
    org_create.add_argument("--business-number")
    org_create.add_argument(
        "--vat", choices=[v.value for v in VatFrequency], default=VatFrequency.MONTHLY.value
    )

    invite = sub.add_parser("invite", help="print a client invite link for an organization")
    invite.add_argument("--org", required=True, type=int, help="organization id")
    invite.add_argument(
        "--access", choices=[a.value for a in AccessLevel], default=AccessLevel.FULL.value
    )
    invite.add_argument("--reusable", action="store_true")
    invite.add_argument("--days", type=int, default=None, help="days until it expires")

    export = sub.add_parser("export", help="export an organization's filed period to a file")
    export.add_argument("--org", required=True, type=int, help="organization id")
    export.add_argument("--period", required=True, help="2026-11, or 2026-11/12 (bi-monthly)")
    export.add_argument("--format", required=True, choices=[f.value for f in ExportFormat])
    export.add_argument("--out", required=True, help="the file to write")
    export.add_argument("--lang", choices=["he", "en"], default="he")

    files = sub.add_parser("files", help="the documents' file store")
    files_sub = files.add_subparsers(dest="action", required=True)
    move = files_sub.add_parser(
        "migrate", help="copy every file to the other store (disk or S3), without downtime"
    )
    move.add_argument("--to", required=True, choices=["s3", "disk"])
    backup = sub.add_parser("backup", help="SQLite installs: database and files in one archive")
    backup.add_argument("--out", required=True, help="the archive to write (.tar.gz)")
    restore = sub.add_parser("restore", help="SQLite installs: put a backup back (bot stopped)")
    restore.add_argument("archive", help="an archive written by tayuk backup")
    restore.add_argument("--force", action="store_true", help="replace an existing database")

    local = sub.add_parser("local-api", help="run the local Telegram Bot API server")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=8081)

    from bot.demo import add_arguments as demo_arguments

    demo_arguments(sub.add_parser("demo", help="try Tayuk in the browser, without Telegram"))
    return parser


async def _with_uow(settings: Settings, work: Callable[[Any], Awaitable[None]]) -> None:
    start_mappers()
    make_private_dir(settings.data_dir)
    engine = create_engine(settings.database.url)
    try:
        await migrate.upgrade(engine)
        async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
            await work(uow)
    finally:
        await engine.dispose()


async def bot_username(settings: Settings) -> str:
    if settings.telegram.bot_username:
        return settings.telegram.bot_username
    if settings.telegram.token is None:
        raise SystemExit("set TAYUK_TELEGRAM_BOT_USERNAME or TAYUK_TELEGRAM_TOKEN to print links")
    from aiogram import Bot

    from bot.telegram_session import make_session

    bot = Bot(
        settings.telegram.token.get_secret_value(), session=make_session(settings.telegram.api_url)
    )
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()
    return me.username or ""


def link(username: str, token: str) -> str:
    return f"https://t.me/{username}?start={token}"


async def _command(args: argparse.Namespace, settings: Settings) -> int:
    clock = SystemClock()
    if args.command == "db":
        start_mappers()
        make_private_dir(settings.data_dir)
        engine = create_engine(settings.database.url)
        try:
            if args.action == "upgrade":
                await migrate.upgrade(engine, args.revision or "head")
            elif args.action == "downgrade":
                await migrate.downgrade(engine, args.revision or "-1")
            print(await migrate.current(engine) or "(empty)")
        finally:
            await engine.dispose()
        return 0
    if args.command == "office":
        username = await bot_username(settings)

        async def make_office(uow: Any) -> None:
            office, issued = await create_office(uow, args.name, clock.now())
            print(f"office {office.id}: {office.name}")
            print("owner link (one use):", link(username, issued.token))

        await _with_uow(settings, make_office)
        return 0
    if args.command == "org":

        async def make_org(uow: Any) -> None:
            org = await create_organization(
                uow,
                office_id=args.office,
                name=args.name,
                now=clock.now(),
                business_number=args.business_number,
                vat_frequency=VatFrequency(args.vat),
            )
            print(f"organization {org.id}: {org.name} {org.business_number or ''}".rstrip())

        await _with_uow(settings, make_org)
        return 0
    if args.command == "invite":
        username = await bot_username(settings)

        async def make_invite(uow: Any) -> None:
            if await uow.organizations.get(args.org) is None:
                raise TayukError("error.not_found")
            days = args.days or settings.invite_ttl_days
            issued = await invites.issue(
                uow,
                kind=InviteKind.ORG_MEMBER,
                organization_id=args.org,
                now=clock.now(),
                access=AccessLevel(args.access),
                ttl=timedelta(days=days),
                reusable=args.reusable,
            )
            await uow.commit()
            print(link(username, issued.token))

        await _with_uow(settings, make_invite)
        return 0
    if args.command == "export":
        return await _export(args, settings, clock)
    raise AssertionError(args.command)


async def _export(args: argparse.Namespace, settings: Settings, clock: SystemClock) -> int:
    """Run by whoever runs the server: no person's permission is checked, and the export
    is recorded without an author."""
    from pathlib import Path

    from core.books import service
    from core.books.movein import MoveinConvention
    from core.deadlines.periods import Period
    from handlers.books import export_labels

    try:
        period = Period.parse(args.period)
    except ValueError:
        raise SystemExit(f"not a period: {args.period!r} (2026-11 or 2026-11/12)") from None
    t = Texts(args.lang)
    target = Path(args.out)

    async def write(uow: Any) -> None:
        out = await asyncio.to_thread(target.open, "w+b")
        with out:
            record = await service.export(
                uow,
                None,
                args.org,
                period,
                ExportFormat(args.format),
                out,
                clock.now(),
                labels=export_labels(t),
                right_to_left=args.lang == "he",
                convention=MoveinConvention(settings.export.movein_convention),
            )
        print(f"{target}: {record.document_count} documents, sha256 {record.sha256}")

    try:
        await _with_uow(settings, write)
    except TayukError:
        await asyncio.to_thread(target.unlink, True)
        raise
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "local-api":
        from local_api.server import main as local_api_main

        return local_api_main(["--host", args.host, "--port", str(args.port)])
    if args.command == "demo":
        from bot.demo.runner import run as run_demo

        return run_demo(args)
    settings = Settings()
    from bot.logs import setup_logging

    setup_logging(settings)
    if args.command in ("files", "backup", "restore"):
        from pathlib import Path

        from bot import maintenance

        if args.command == "files":
            return maintenance.run_files_migrate(settings, args.to)
        if args.command == "backup":
            counts = maintenance.backup(settings, Path(args.out))
            print(f"{args.out}: the database and {counts['files']} files")
            return 0
        counts = maintenance.restore(settings, Path(args.archive), force=args.force)
        print(f"restored the database and {counts['files']} files")
        return 0
    if args.command == "run":
        from bot.runner import run

        return run(settings)
    if args.command == "worker":
        from bot.runner import run_worker

        return run_worker(settings)
    if args.command == "mail":
        from bot.mail.service import run_mail

        asyncio.run(run_mail(settings))
        return 0
    try:
        return asyncio.run(_command(args, settings))
    except TayukError as error:
        print(Texts("en")(error.key, **error.params), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
