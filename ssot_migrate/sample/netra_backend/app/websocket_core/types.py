"""Value types shared by the WebSocket layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# The five events a chat user must see, in this order, for every agent run.
AGENT_EVENTS = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)


class IsolationError(RuntimeError):
    """A message or connection crossed from one user's context into another's."""


class JsonSocket(Protocol):
    async def send_json(self, message: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class UserExecutionContext:
    """Who a request runs for; every manager is bound to exactly one."""

    user_id: str
    thread_id: str
    run_id: str


@dataclass(frozen=True)
class WebSocketConnection:
    connection_id: str
    user_id: str
    websocket: JsonSocket
