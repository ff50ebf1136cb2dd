"""A hand-written test double of the manager, written against an interface that has since moved.

It shares only some methods with ``UnifiedWebSocketManager``; ``add_connection`` takes the user
and socket separately, and events are recorded instead of delivered.
"""

from __future__ import annotations

from typing import Any


class MockWebSocketManager:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.connections: dict[str, list[object]] = {}

    def add_connection(self, user_id: str, websocket: object, thread_id: str | None = None) -> None:
        self.connections.setdefault(user_id, []).append(websocket)

    async def send_agent_event(self, event: str, data: dict[str, Any], user_id: str | None = None) -> int:
        self.events.append((event, dict(data)))
        return 1

    def send_message(self, user_id: str, message: dict[str, Any]) -> None:
        self.events.append((message.get("type", "message"), message))

    def emit_critical_event(self, event: str) -> None:
        self.events.append((event, {}))

    def get_stats(self) -> dict[str, Any]:
        return {"connections": sum(len(v) for v in self.connections.values())}

    def event_types(self) -> list[str]:
        return [event for event, _ in self.events]
