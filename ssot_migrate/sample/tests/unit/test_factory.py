"""The factory hands every user context its own manager."""

from __future__ import annotations

import pytest

from netra_backend.app.websocket_core.factory import create_websocket_manager, get_websocket_manager
from netra_backend.app.websocket_core.types import UserExecutionContext
from test_framework.fake_websocket import user


def test_one_fresh_manager_per_context() -> None:
    first = create_websocket_manager(user("alice"))
    second = create_websocket_manager(user("alice", run="2"))
    assert first is not second
    assert first.user_context.run_id == "run-alice-1"
    assert second.get_stats() == {"user_id": "alice", "connections": 0, "messages_sent": 0}


def test_legacy_factory_still_builds_a_manager() -> None:
    manager = get_websocket_manager(user("bob"))
    assert manager.user_context.user_id == "bob"


def test_a_context_without_user_is_refused() -> None:
    with pytest.raises(ValueError, match="user_id"):
        create_websocket_manager(UserExecutionContext(user_id="", thread_id="t", run_id="r"))
