"""Every consumer of the manager still delivers what it promises."""

from __future__ import annotations

import asyncio

from auth_service.app.logout_handler import logout
from auth_service.app.session_notifier import session_expired
from auth_service.app.token_events import token_refreshed
from netra_backend.app.agents.agent_registry import describe
from netra_backend.app.agents.data_agent import report_rows
from netra_backend.app.agents.triage_agent import pick_tool, triage
from netra_backend.app.core.app_state import system_manager
from netra_backend.app.core.startup import websocket_ready
from netra_backend.app.routes.admin_route import inspect_manager
from netra_backend.app.routes.websocket_route import connect
from netra_backend.app.services.event_replay import replay
from netra_backend.app.services.health_service import websocket_health
from netra_backend.app.services.message_router import route_message
from netra_backend.app.services.metrics import snapshot
from netra_backend.app.services.notification_service import notify
from netra_backend.app.services.presence_service import mark_online
from netra_backend.app.services.thread_service import announce_thread
from netra_backend.app.services.user_session import open_session
from netra_backend.app.websocket_core.types import AGENT_EVENTS
from test_framework.fake_websocket import FakeWebSocket, connection_for, user


def test_notifications_messages_and_threads() -> None:
    context = user("alice")
    socket = FakeWebSocket()
    connection = connection_for(context, socket)
    assert asyncio.run(notify(context, connection, "hello")) == 1
    assert asyncio.run(route_message(context, connection, {"id": 7})) == 1
    assert asyncio.run(announce_thread(context, connection)) == 1
    assert asyncio.run(mark_online(context, connection)) == 1
    assert socket.sent == [
        {"type": "notification", "text": "hello"},
        {"type": "ack", "id": 7},
        {"type": "thread_created", "thread_id": "thread-alice"},
        {"type": "presence", "online": True},
    ]


def test_sessions_health_metrics_admin() -> None:
    context = user("bob")
    manager = asyncio.run(open_session(context, connection_for(context, FakeWebSocket())))
    assert snapshot(manager) == {"websocket.connections": 1}
    assert inspect_manager(manager)["connections"] == 1
    assert describe(manager)["user_id"] == "bob"
    assert websocket_health(context) == {"status": "ok", "connections": 0}
    assert asyncio.run(report_rows(context, 12)) == {"rows": 12, "connections": 0}
    assert websocket_ready()
    assert inspect_manager(system_manager())["connections"] == 0


def test_replay_and_triage() -> None:
    context = user("carol")
    socket = FakeWebSocket()
    events = [{"type": "agent_thinking", "n": 1}, {"type": "agent_completed", "n": 2}]
    assert asyncio.run(replay(context, connection_for(context, socket), events)) == 2
    assert socket.sent == events
    assert pick_tool("Summarize this") == "summarize"
    live = FakeWebSocket()

    async def run() -> str:
        manager = await connect(context, live, "carol-live")
        return await triage(context, "search docs", manager)

    assert asyncio.run(run()).startswith("Here is what I found")
    assert live.types() == list(AGENT_EVENTS)


def test_auth_service_pushes_session_events() -> None:
    context = user("dave")
    socket = FakeWebSocket()
    connection = connection_for(context, socket)
    assert asyncio.run(session_expired(context, connection)) == 1
    assert asyncio.run(token_refreshed(context, connection, 3600)) == 1
    assert asyncio.run(logout(context, connection)) == 0
    assert socket.types() == ["session_expired", "token_refreshed", "logged_out"]
