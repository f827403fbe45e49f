"""Each package's public face is exactly these names: adding or dropping one is a
decision made here, not a side effect of an import."""

from __future__ import annotations

import importlib
import types

import pytest

FACES: dict[str, str] = {  # package: its names, split at white space
    "agentactors": """
        AlreadyDecided AlreadyStarted CallTimeout Config NotRunning PermissionNotFound
        SessionNotFound __version__ load_config lookup snapshot start_services start_singleton
        stop_services
    """,
    "agentactors.model": """
        ACTIONS BY_ABORT BY_ASKER BY_SHUTDOWN BY_TIMEOUT BY_USER DEFAULT_LIMIT MAX_DEPTH
        MAX_DIRECTORY MAX_LIMIT MAX_MESSAGE MAX_METADATA_BYTES MAX_NAME MAX_PATTERN MAX_PATTERNS
        MAX_RULES MAX_TITLE REPLIES SCOPES STRICTNESS Action AgentActorsError AlreadyDecided
        AlreadyStarted ApprovalNotFound BlockingCallError CallTimeout ConfigError Decider Event
        Inbox InvalidRequest NotRunning Page PermissionNotFound PermissionRequest ReplyKind
        RequestState Rule RuntimeFault SavedApproval Scope ServiceCrashed ServiceError
        ServiceRestarting Session SessionNotFound SortedKeys ToolRef check_directory check_limit
        check_metadata check_patterns check_rules check_text cursor_pattern depth is_id new_id
        now_ms page_by_id page_of read_cursor wire
    """,
    "agentactors.policy": """
        PATH_KEYS Config Decision Derived Protected decide_checks default_data_dir derive
        load_config parse_ruleset protected_of wildcard_match
    """,
    "agentactors.policy.shell": "BashAnalysis analyse_bash display_text",
    "agentactors.actors.runtime": """
        DEFAULT_TIMEOUT BridgeFuture Completion Crash Later Registry Reload Remote Request
        RestartPolicy Service TimerHandle acall blocking call current_service current_waker
        failed handles install_event_sink lookup pause post registry send_events snapshot
        start_singleton tell timers
    """,
    "agentactors.actors.store": """
        MEMORY STORE DataDir History Journal MemoryState State StoreActor StoreError
        StoreUnavailable data_dir_path load_state lock_data_dir open_database recent_events
    """,
    "agentactors.actors": """
        BUS LAGGED MAX_TIMEOUT PERMISSION Closed Subscription api make_event messages
        start_services stop_services subscribe_now
    """,
    "agentactors.client": "AsyncClient Client RemoteError SseEvent SseParser Unauthorized",
    "agentactors.http": """
        PASSWORD_ENV ConsoleServer HttpServer Settings StartRefused attach run
    """,
    "agentactors.plugins": "PLUGINS Loaded Plugin PluginSpec discover start_plugins",
    "agentactors.integrations": """
        AGENTS CLAUDE CODEX DEFAULT_URL GEMINI INSTALLERS PRE_EXPIRED REQUEST_EXPIRED Agent
        Answer Change InstallError InstallOptions Plan ToolAsk Verdict installer patch_paths
        translate verdict_of write
    """,
}


@pytest.mark.parametrize("package", sorted(FACES))
def test_the_face_is_exactly_its_names(package: str) -> None:
    """``__all__`` is the fixed list, with no name twice, and each name is there."""
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(FACES[package].split())
    assert len(set(module.__all__)) == len(module.__all__)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it lacks: {missing}"


@pytest.mark.parametrize("package", sorted(FACES))
def test_nothing_public_leaks_past_the_face(package: str) -> None:
    """Every public attribute of the package is in ``__all__`` or is a module (a
    subpackage or a public module, reached by its own name)."""
    module = importlib.import_module(package)
    leaked = [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and name not in module.__all__
        and not isinstance(value, types.ModuleType)
    ]
    assert not leaked, f"{package} exposes names outside __all__: {leaked}"
