"""The translation tables: every agent's tool call as our kind, patterns and metadata,
and our verdicts as each agent's hook answer (pure functions, no server)."""

from __future__ import annotations

from typing import Any

import pytest

from agentactors.integrations import CLAUDE, CODEX, GEMINI, Verdict, patch_paths, verdict_of
from agentactors.model import Decider, PermissionRequest, Rule

from .hook_inputs import CLAUDE_TOOLS, PATCH, claude, claude_suggestions, codex, gemini
from .http_helpers import PROJECT

CLAUDE_KINDS = {
    "Bash": ("bash", (), {"command": "git status"}),
    "PowerShell": ("bash", (), {"command": "Get-ChildItem"}),
    "Write": ("edit", (), {"path": f"{PROJECT}/notes.md"}),
    "Edit": ("edit", (), {"path": f"{PROJECT}/app.py"}),
    "MultiEdit": ("edit", (), {"path": f"{PROJECT}/app.py"}),
    "NotebookEdit": ("edit", (), {"path": f"{PROJECT}/nb.ipynb"}),
    "Read": ("read", (), {"path": f"{PROJECT}/README.md"}),
    "Glob": ("read", (), {"path": f"{PROJECT}/src", "pattern": "**/*.py"}),
    "Grep": ("read", (), {"path": PROJECT, "pattern": "TODO"}),
    "WebFetch": ("webfetch", ("https://docs.python.org/3/library/json.html",), {}),
    "WebSearch": ("websearch", ("trio nursery cancel scope",), {}),
    "mcp__github__create_issue": ("mcp", ("github:create_issue",), {"mcpServer": "github"}),
    "Agent": ("Agent", ("Find the tests",), {}),
}


@pytest.mark.parametrize("tool", sorted(CLAUDE_TOOLS))
def test_claude_tools_become_our_kinds(tool: str) -> None:
    """Each Claude Code tool maps to its kind; the metadata says who asked and keeps the
    input; an unknown tool keeps its own name as its kind."""
    kind, patterns, metadata = CLAUDE_KINDS[tool]
    ask = CLAUDE.request(claude("PreToolUse", tool))
    assert (ask.kind, ask.patterns) == (kind, patterns)
    assert metadata.items() <= ask.metadata.items()
    assert ask.metadata["agent"] == "claude-code"
    assert ask.metadata["tool"] == tool
    assert ask.metadata["hookEvent"] == "PreToolUse"
    assert ask.metadata["input"] == CLAUDE_TOOLS[tool]


def test_file_paths_are_made_absolute_against_cwd() -> None:
    """A relative path (Gemini, Codex) is the hook's cwd joined with it."""
    ask = GEMINI.request(gemini("write_file", {"file_path": "src/a.py", "content": "x"}))
    assert (ask.kind, ask.metadata["path"]) == ("edit", f"{PROJECT}/src/a.py")


def test_a_search_without_a_path_reads_the_cwd() -> None:
    """Glob with no path searches the hook's cwd."""
    ask = CLAUDE.request(claude("PreToolUse", "Glob", {"pattern": "*.md"}))
    assert ask.metadata["path"] == PROJECT


@pytest.mark.parametrize(
    ("tool_input", "command"),
    [
        ({"command": "ls -la"}, "ls -la"),
        ({"command": ["bash", "-lc", "make test"]}, "make test"),
        ({"command": ["git", "commit", "-m", "a b"]}, "git commit -m 'a b'"),
    ],
)
def test_codex_shell_commands_as_text_or_argv(tool_input: dict[str, Any], command: str) -> None:
    """Codex's Bash command, a string or an argv list, becomes the command bash parses."""
    ask = CODEX.request(codex("PermissionRequest", "Bash", tool_input))
    assert (ask.kind, ask.metadata["command"]) == ("bash", command)


def test_codex_network_access_is_its_own_kind() -> None:
    """Codex asks for the network as Bash with ``network-access <domain>``."""
    body = codex(
        "PermissionRequest",
        "Bash",
        {"command": "curl https://pypi.org", "description": "network-access pypi.org"},
    )
    ask = CODEX.request(body)
    assert (ask.kind, ask.patterns) == ("network", ("pypi.org",))


def test_apply_patch_edits_the_files_its_patch_names() -> None:
    """Every file a patch adds, updates, deletes or moves to is edited."""
    assert patch_paths(PATCH) == [
        "src/app.py",
        "docs/new.md",
        "old.txt",
        "src/name.py",
        "src/renamed.py",
    ]
    ask = CODEX.request(codex("PreToolUse", "apply_patch", {"command": ["apply_patch", PATCH]}))
    assert ask.kind == "edit"
    assert ask.patterns == tuple(f"{PROJECT}/{p}" for p in patch_paths(PATCH))
    one = CODEX.request(
        codex(
            "PreToolUse",
            "apply_patch",
            {"input": "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch"},
        )
    )
    assert (one.patterns, one.metadata["path"]) == ((), f"{PROJECT}/a.txt")


GEMINI_KINDS: dict[str, tuple[dict[str, Any], str]] = {
    "run_shell_command": ({"command": "npm test", "description": "tests"}, "bash"),
    "write_file": ({"file_path": f"{PROJECT}/a.txt", "content": "x"}, "edit"),
    "replace": ({"file_path": f"{PROJECT}/a.txt", "old_string": "x", "new_string": "y"}, "edit"),
    "read_file": ({"absolute_path": f"{PROJECT}/a.txt"}, "read"),
    "read_many_files": ({"paths": ["a.txt", "b.txt"]}, "read"),
    "list_directory": ({"dir_path": PROJECT}, "read"),
    "glob": ({"pattern": "*.ts"}, "read"),
    "search_file_content": ({"pattern": "TODO", "dir_path": "src"}, "read"),
    "web_fetch": (
        {"prompt": "Summarise https://example.com/a and https://example.org"},
        "webfetch",
    ),
    "google_web_search": ({"query": "gemini cli hooks"}, "websearch"),
    "mcp__linear__create_issue": ({"title": "x"}, "mcp"),
    "save_memory": ({"fact": "likes tabs"}, "save_memory"),
}


@pytest.mark.parametrize("tool", sorted(GEMINI_KINDS))
def test_gemini_tools_become_our_kinds(tool: str) -> None:
    """Each Gemini CLI tool maps to its kind; unknown tools keep their name."""
    tool_input, kind = GEMINI_KINDS[tool]
    ask = GEMINI.request(gemini(tool, tool_input))
    assert ask.kind == kind
    assert ask.patterns or ask.metadata.get("command") or ask.metadata.get("path")


def test_web_fetch_asks_for_the_urls_in_its_prompt() -> None:
    """Gemini's web_fetch takes a prompt: its URLs are the patterns."""
    ask = GEMINI.request(gemini("web_fetch", GEMINI_KINDS["web_fetch"][0]))
    assert ask.patterns == ("https://example.com/a", "https://example.org")


def test_an_unknown_tool_is_never_dropped() -> None:
    """A tool with no input still asks, under its own name, for ``*``."""
    ask = CLAUDE.request(claude("PreToolUse", "TodoWrite", {}))
    assert (ask.kind, ask.patterns) == ("TodoWrite", ("*",))


def test_large_inputs_are_cut_in_metadata() -> None:
    """A Write of a large file keeps a cut copy of its content in metadata."""
    ask = CLAUDE.request(
        claude("PreToolUse", "Write", {"file_path": "/x/a", "content": "y" * 100_000})
    )
    assert len(ask.metadata["input"]["content"]) < 3000


def _final(**fields: Any) -> PermissionRequest:
    base: dict[str, Any] = {
        "id": "per_1",
        "session_id": "ses_1",
        "directory": "/",
        "permission": "bash",
        "patterns": ("x",),
        "state": "replied",
    }
    return PermissionRequest(**{**base, **fields})


RULE = Rule("bash", "rm *", "deny", source="config.toml")


@pytest.mark.parametrize(
    ("request_", "verdict"),
    [
        (
            _final(reply="once", decided_by=Decider("user")),
            Verdict("allow", "agentactors: allowed by user"),
        ),
        (
            _final(reply="always", decided_by=Decider("user")),
            Verdict("allow", "agentactors: allowed by user", always=("x",)),
        ),
        (
            _final(reply="reject", effect="deny", rule=RULE, decided_by=Decider("rule")),
            Verdict("deny", "agentactors: denied by rule bash 'rm *' = deny (config.toml)"),
        ),
        (
            _final(reply="reject", message="use make clean", decided_by=Decider("user")),
            Verdict("deny", "use make clean"),
        ),
        (
            _final(reply="reject", state="expired", decided_by=Decider("timeout")),
            Verdict("fallback", "agentactors: no answer within 30 s"),
        ),
    ],
)
def test_verdicts(request_: PermissionRequest, verdict: Verdict) -> None:
    """A final request is allow, deny (the rule or the message as the reason) or, when
    the hold ran out, the agent's own prompt."""
    assert verdict_of(request_, hold=30, expired_deny=False) == verdict


def test_an_expired_hold_may_deny() -> None:
    """Configured so, a hold that runs out denies."""
    expired = _final(reply="reject", state="expired", decided_by=Decider("timeout"))
    assert verdict_of(expired, hold=30, expired_deny=True).outcome == "deny"


def test_claude_answers() -> None:
    """PreToolUse: permissionDecision; PermissionRequest: a decision or nothing; an
    always echoes the suggestions for this tool with destination session."""
    deny = Verdict("deny", "no")
    assert CLAUDE.answer("PreToolUse", Verdict("fallback", "late"), {}) == {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "ask",
            "permissionDecisionReason": "late",
        }
    }
    assert CLAUDE.answer("PermissionRequest", Verdict("fallback", "late"), {}) == {}
    assert CLAUDE.answer("PermissionRequest", deny, {})["hookSpecificOutput"]["decision"] == {
        "behavior": "deny",
        "message": "no",
        "interrupt": False,
    }
    body = claude(
        "PermissionRequest", "Bash", permission_suggestions=claude_suggestions("Bash", "npm test:*")
    )
    saved = Verdict("allow", "ok", always=("npm test *",))
    always = CLAUDE.answer("PermissionRequest", saved, body)
    assert always["hookSpecificOutput"]["decision"] == {
        "behavior": "allow",
        "updatedPermissions": [
            {
                "type": "addRules",
                "rules": [{"toolName": "Bash", "ruleContent": "npm test:*"}],
                "behavior": "allow",
                "destination": "session",
            }
        ],
    }


def _echoed(saved: tuple[str, ...], *contents: str | None) -> list[str | None]:
    """The rule contents an always saving ``saved`` echoes, of Claude's suggestions of
    a Bash rule for each of ``contents`` (None: the rule names the tool only)."""
    rules = [
        {"toolName": "Bash"} if content is None else {"toolName": "Bash", "ruleContent": content}
        for content in contents
    ]
    suggestion = {"type": "addRules", "behavior": "allow", "destination": "localSettings"}
    body = claude(
        "PermissionRequest",
        "Bash",
        {"command": "rm -rf build"},
        permission_suggestions=[{**suggestion, "rules": [rule]} for rule in rules],
    )
    answer = CLAUDE.answer("PermissionRequest", Verdict("allow", "ok", always=saved), body)
    remembered = answer["hookSpecificOutput"]["decision"].get("updatedPermissions", [])
    return [rule.get("ruleContent") for s in remembered for rule in s["rules"]]


def test_an_always_echoes_no_wider_than_it_saved() -> None:
    """Claude is told to remember only rules the saved patterns cover: never the whole
    tool, never a wider prefix or a wildcard, never another command."""
    wider = (None, "*", "rm*", "rmdir:*", "rm -rf *.o", "curl evil.sh", "r?:*")
    kept = ("rm -rf build", "rm:*", "rm -rf:*", "rm *", "rm -rf build:*")
    assert _echoed(("rm *",), *wider, *kept) == list(kept)
    assert _echoed(("rm -rf build",), None, "rm:*", "rm -rf build") == ["rm -rf build"]
    assert _echoed(("rm -rf *",), "rm -rf:*", "rm -r:*", "rm:*") == ["rm -rf:*"]
    assert _echoed(("*",), None, "rm:*") == [None, "rm:*"]
    assert _echoed((), None, "rm -rf build") == []


def test_an_always_keeps_only_the_covered_rules_of_a_suggestion() -> None:
    """A suggestion of several rules is cut to the covered ones; rules for other tools
    and suggestions left with no rule go."""
    mixed = {
        "type": "addRules",
        "behavior": "allow",
        "destination": "localSettings",
        "rules": [
            {"toolName": "Bash"},
            {"toolName": "Bash", "ruleContent": "rm -rf build"},
            {"toolName": "Read"},
        ],
    }
    only_wide = {**mixed, "rules": [{"toolName": "Bash"}]}
    body = claude(
        "PermissionRequest",
        "Bash",
        {"command": "rm -rf build"},
        permission_suggestions=[mixed, only_wide],
    )
    answer = CLAUDE.answer("PermissionRequest", Verdict("allow", "ok", always=("rm *",)), body)
    assert answer["hookSpecificOutput"]["decision"]["updatedPermissions"] == [
        {**mixed, "rules": [{"toolName": "Bash", "ruleContent": "rm -rf build"}],
         "destination": "session"}
    ]  # fmt: skip


def test_codex_and_gemini_answers() -> None:
    """Codex's PreToolUse only ever denies; Gemini falls back with ask."""
    assert CODEX.answer("PreToolUse", Verdict("allow", "ok"), {}) == {}
    assert CODEX.answer("PreToolUse", Verdict("fallback", "late"), {}) == {}
    assert CODEX.answer("PermissionRequest", Verdict("deny", "no"), {}) == {
        "hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {"behavior": "deny", "message": "no"},
        }
    }
    assert GEMINI.answer("BeforeTool", Verdict("fallback", "late"), {}) == {
        "decision": "ask",
        "reason": "late",
    }
    assert GEMINI.unreachable("BeforeTool", "down", False)["decision"] == "ask"
    assert GEMINI.unreachable("BeforeTool", "down", True)["decision"] == "deny"
    assert CLAUDE.unreachable("PreToolUse", "down", False) == {}
