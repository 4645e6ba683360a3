"""Control API features beyond the Bot API round trips."""

from __future__ import annotations

import asyncio
import base64
import resource

import httpx
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError

from local_api.client import ControlApiError, LocalApiClient, TgUser
from local_api.testing import DEFAULT_TOKEN, aiogram_bot, local_api, local_server

from .conftest import make_jpeg


async def test_contact_edit_and_known_chats(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    shared = await client.send_contact(dana, "+972501234567")
    assert shared.message is not None
    assert shared.message["contact"] == {
        "phone_number": "+972501234567",
        "first_name": "דנה",
        "user_id": dana.id,
    }
    original = await client.send_text(dana, "סכום 100")
    assert original.message_id is not None
    edited = await client.edit_text(dana, original.message_id, "סכום 120")
    updates = await bot.get_updates(timeout=0)
    assert updates[-1].edited_message is not None
    assert updates[-1].edited_message.text == "סכום 120"
    assert edited.update_id == updates[-1].update_id
    # A user who pressed Start earlier (no message in this run) can be written to.
    avi = TgUser(id=7_000_000_003, first_name="Avi")
    await client.add_chat(avi)
    await bot.send_message(avi.id, "תזכורת")
    user_side = await client.messages(dana.id, include_user=True)
    assert [m.kind for m in user_side] == ["contact", "text"]
    assert not any(m.from_bot for m in user_side)


async def test_control_errors(client: LocalApiClient, dana: TgUser) -> None:
    with pytest.raises(ControlApiError) as caught:
        await client.send_text(dana, "x", reply_to=12345)
    assert caught.value.status == 404
    with pytest.raises(ControlApiError):
        await client.redeliver(999)
    with pytest.raises(ControlApiError):
        await client.send_album(dana, [make_jpeg()])  # an album has 2..10 parts


async def test_curl_style_json_and_index(api: tuple[str, LocalApiClient], dana: TgUser) -> None:
    base_url, client = api
    photo = base64.b64encode(make_jpeg(320, 200)).decode()
    async with httpx.AsyncClient() as http:
        index = (await http.get(f"{base_url}/_control/")).json()
        response = await http.post(
            f"{base_url}/_control/{client.token}/send_photo",
            json={"user": {"id": dana.id, "first_name": "Dana"}, "data_b64": photo},
        )
    assert any(e["path"].endswith("send_photo") for e in index["endpoints"])
    assert response.status_code == 200
    assert response.json()["message"]["photo"][-1]["width"] == 320


async def test_configure_reset_and_second_bot(
    api: tuple[str, LocalApiClient], dana: TgUser
) -> None:
    base_url, client = api
    await client.configure(username="tayuk_office_bot", first_name="Tayuk")
    second = client.for_bot("555:second")
    async with aiogram_bot(base_url) as first_bot, aiogram_bot(base_url, "555:second") as other:
        assert (await first_bot.get_me()).username == "tayuk_office_bot"
        assert (await other.get_me()).username == "tayuk_test_bot"
        sent = await client.send_text(dana, "/start")
        await second.send_text(dana, "/other")
        assert [u.message.text for u in await other.get_updates() if u.message] == ["/other"]
        await first_bot.get_updates(offset=sent.update_id + 1, timeout=0)
        await client.reset()
        assert await client.updates() == []
        # Update ids keep growing after a reset, so the bot's offset does not hide them.
        again = await client.send_text(dana, "/start")
        assert again.update_id > sent.update_id
        assert len(await first_bot.get_updates(offset=sent.update_id + 1, timeout=0)) == 1


async def test_second_poller_conflicts(bot: Bot, client: LocalApiClient) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    assert await second == []


async def test_slow_method_and_any_method_rule(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    await client.send_text(dana, "/start")
    await client.fail_next("*", error_code=None, delay=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bot.send_message(dana.id, "slow")
    assert loop.time() - started >= 0.2
    await client.fail_next("sendChatAction", error_code=403)
    with pytest.raises(Exception, match="blocked"):
        await bot.send_chat_action(dana.id, "typing")
    calls = await client.calls()
    assert [c.method for c in calls] == ["sendMessage", "sendChatAction"]
    assert calls[1].status == 403


async def test_many_users_at_once_with_aiohttp_transport() -> None:
    async with local_api(transport="aiohttp") as (base_url, client):
        users = [TgUser(id=9_000 + i, first_name=f"u{i}") for i in range(50)]
        photo = make_jpeg(640, 480)
        sent = await asyncio.gather(*(client.send_photo(u, photo) for u in users))
        assert len({s.update_id for s in sent}) == 50
        async with aiogram_bot(base_url) as tg_bot:
            updates = await tg_bot.get_updates(timeout=0)
            assert len(updates) == 50
            await asyncio.gather(
                *(tg_bot.send_message(u.message.chat.id, "✓") for u in updates if u.message)
            )
        replies = await asyncio.gather(
            *(client.wait_for_messages(u.id, 1, timeout=5) for u in users)
        )
        assert all(len(r) == 1 for r in replies)
        latency = [
            r[0].sent_at - (s.available_at or 0) for r, s in zip(replies, sent, strict=True)
        ]
        assert all(x >= 0 for x in latency)


async def test_a_thousand_clients_connected_at_once_are_all_answered() -> None:
    """1,000 open connections at the same moment (a harness's users, or a service's bots):
    none is reset, whatever the process's soft limit of open files was (often 1,024, and
    both ends of each connection live in this process)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))  # as on many hosts
    try:
        statuses = await _thousand_at_once()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert statuses == [200] * 1000


async def _thousand_at_once() -> list[int]:
    async with local_server() as server:

        async def one(n: int) -> int:
            reader, writer = await asyncio.open_connection(server.host, server.port)
            try:
                writer.write(
                    f"GET /bot{DEFAULT_TOKEN}/getMe HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                await writer.drain()
                return int((await reader.readline()).split()[1])
            finally:
                writer.close()

        async def all_connected() -> list[int]:
            return await asyncio.gather(*(one(n) for n in range(1000)))

        return await asyncio.wait_for(all_connected(), timeout=60)


async def test_one_request_waits_for_many_chats() -> None:
    async with local_api(transport="aiohttp") as (base_url, client):
        users = [TgUser(id=9_500 + i, first_name=f"u{i}") for i in range(40)]
        await asyncio.gather(*(client.add_chat(u) for u in users))
        ids = [u.id for u in users]
        waiting = asyncio.create_task(client.wait_for_many(ids, 1, timeout=10))
        async with aiogram_bot(base_url) as tg_bot:
            for user in users[:-1]:
                await tg_bot.send_message(user.id, "✓")
            assert not waiting.done()  # the last chat has nothing yet
            await tg_bot.send_message(users[-1].id, "✓")
        found = await waiting
        assert sorted(found) == sorted(ids)
        assert all([m.text for m in found[i]] == ["✓"] for i in ids)
        # A timeout answers with what there is.
        partial = await client.wait_for_many([ids[0], 1], 1, timeout=0.2)
        assert len(partial[ids[0]]) == 1 and partial[1] == []
