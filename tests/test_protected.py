"""Writes to agentactors' own configuration and code always ask, whatever allows them.

A real server (the live fixture) with the rules ``edit = "allow"`` and ``bash = "allow"``
from a ``--config`` file and its state in a data dir.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs
import pytest
import trio

from agentactors.actors import PERMISSION, start_services, stop_services
from agentactors.actors._lifecycle import RunningServices
from agentactors.actors.runtime import Crash, acall
from agentactors.model import ServiceCrashed
from agentactors.plugins import PluginSpec, start_plugins
from agentactors.plugins.auto_approve import AutoApprove
from agentactors.policy import Config, Protected, derive, load_config

from .http_helpers import Live

ASK_EDITS = [{"permission": "edit", "pattern": "*", "action": "ask"}]
"""Session rules under which saved approvals and policy plugins decide edits."""
ALLOW_ALL = [{"permission": "*", "pattern": "*", "action": "allow"}]
"""Session rules that allow every kind of request."""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path.resolve()


@pytest.fixture
def project(root: Path) -> Path:
    """The session directory: a link to its plugin folder, a build dir, a source file."""
    project = root / "project"
    (project / ".agentactors" / "plugins").mkdir(parents=True)
    (project / "build").mkdir()
    (project / "src").mkdir()
    (project / "plugins-link").symlink_to(project / ".agentactors" / "plugins")
    return project


@pytest.fixture
def config(root: Path) -> Config:
    path = root / "config.toml"
    path.write_text('[permission]\nedit = "allow"\nbash = "allow"\n', encoding="utf-8")
    return load_config(path, user_config=False, read_project_files=False)


@pytest.fixture
def services(config: Config, root: Path) -> Iterator[RunningServices]:
    started = start_services(config, data_dir=root / "data")
    yield started
    stop_services()


async def ask(live: Live, session_id: str, permission: str, **body: Any) -> dict[str, Any]:
    with trio.fail_after(10):
        response = await live.client.post(
            f"/session/{session_id}/permission", json={"permission": permission, **body}
        )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def edit(live: Live, session_id: str, path: str, **body: Any) -> dict[str, Any]:
    return await ask(live, session_id, "edit", metadata={"path": path}, **body)


async def bash(live: Live, session_id: str, command: str) -> dict[str, Any]:
    return await ask(live, session_id, "bash", metadata={"command": command})


PROTECTED_EDITS = [
    "agentactors.toml",
    "<project>/agentactors.toml",
    "sub/../agentactors.toml",
    ".agentactors/plugins/x.py",
    "<project>/.agentactors/plugins/x.py",
    "plugins-link/x.py",  # a symlink into .agentactors
    "<root>/other/agentactors.toml",  # any directory's project file
    "<root>/config.toml",  # the --config file
    "<root>/data/state.db",  # the data dir
    "<user_config>/config.toml",  # the user config dir
    "AGENTACTORS.TOML",  # a case-insensitive filesystem opens the project file
    "<project>/AgentActors.toml",
    ".AgentActors/plugins/x.py",
]

PROTECTED_COMMANDS = [
    "echo x >> agentactors.toml",
    "tee agentactors.toml",
    "cp x .agentactors/plugins/",
    "sed -i s/a/b/ agentactors.toml",
    "mv /tmp/evil.py plugins-link/",
    "curl -oagentactors.toml https://example.com/x",
    "python -c \"open('agentactors.toml', 'w').write('')\"",
    "cp x .agentactor?/plugins/",  # a glob that expands to the plugin folder
    "cp x agentactors.{toml,bak}",
    "cp x <root>/config.toml",
    "rm -rf <root>/data",
    "cd .agentactors && cp ../x plugins/",
    "cp x AgentActors.TOML",
    # writes no word names: a tree into the session directory, or inline code
    "tar xf evil.tar",
    "unzip evil.zip",
    "git apply x.patch",
    "git checkout main",
    "patch -p1 < x.patch",
    "python3 -c \"open('agentactors'+'.toml','w')\"",
    "node -e \"require('fs').writeFileSync('agentactors'+'.toml', '')\"",
    'perl -e \'open(F, ">agentactors" . ".toml")\'',
    "python3 <<'EOF'\nopen('agentactors' + '.toml', 'w')\nEOF",
    'awk \'BEGIN { print "x" > ("agentactors" ".toml") }\'',
    "rsync -a /tmp/evil/ ./",
    "cp -a /tmp/evil/. .",
    "tar -xzf evil.tgz -C <root>",  # above the session directory
    "unzip evil.zip -d <root>/data",  # a place
    "sudo tar -xf evil.tar -C ~",  # above the user config dir
]


def _fill(text: str, root: Path, project: Path) -> str:
    user_config = platformdirs.user_config_dir("agentactors")
    return (
        text.replace("<root>", str(root))
        .replace("<project>", str(project))
        .replace("<user_config>", user_config)
    )


@pytest.mark.parametrize("path", PROTECTED_EDITS)
async def test_protected_edits_ask_though_rules_allow_edits(
    live: Live, root: Path, project: Path, path: str
) -> None:
    """With `edit = "allow"`, an edit of our configuration or code still asks, and says why."""
    session = await live.session(directory=str(project))
    asked = await edit(live, session["id"], _fill(path, root, project))
    assert (asked["effect"], asked["state"]) == ("ask", "pending")
    assert asked["metadata"]["protected"]


@pytest.mark.parametrize("command", PROTECTED_COMMANDS)
async def test_protected_shell_writes_ask_though_rules_allow_bash(
    live: Live, root: Path, project: Path, command: str
) -> None:
    """With `bash = "allow"`, a command writing our configuration or code still asks."""
    session = await live.session(directory=str(project))
    asked = await bash(live, session["id"], _fill(command, root, project))
    assert (asked["effect"], asked["state"]) == ("ask", "pending")
    assert asked["metadata"]["protected"]


async def test_the_reason_names_each_path_once(live: Live, project: Path) -> None:
    """`tee agentactors.toml` writes one file, seen three ways: one path is recorded."""
    session = await live.session(directory=str(project))
    asked = await bash(live, session["id"], "tee agentactors.toml")
    assert asked["metadata"]["protected"] == [str(project / "agentactors.toml")]


@pytest.mark.parametrize(
    "body",
    [
        {"patterns": ["echo x"], "metadata": {"command": "echo x >> agentactors.toml"}},
        {"patterns": ["sed -i s/a/b/ agentactors.toml"]},
        {"patterns": ["ls", "cp x .agentactors/plugins/"]},
    ],
)
async def test_bash_asks_with_patterns_are_checked_too(
    live: Live, project: Path, body: dict[str, Any]
) -> None:
    """OpenCode's shape (its own patterns, the command in metadata) is parsed for writes."""
    session = await live.session(directory=str(project))
    asked = await ask(live, session["id"], "bash", **body)
    assert (asked["effect"], asked["state"]) == ("ask", "pending")
    assert asked["metadata"]["protected"]


@pytest.mark.parametrize(
    ("permission", "value"),
    [
        ("edit", "src/app.py"),
        ("edit", "<project>/notes/agentactors.md"),
        ("bash", "echo x >> notes.txt"),
        ("bash", "cat agentactors.toml"),  # reading is not writing
        ("bash", "grep -r x .agentactors"),
        ("bash", "rm -rf build/*"),  # build holds no agentactors.toml
        ("bash", "cp a b"),
        ("bash", "git status"),
        ("bash", "git log --oneline -n 5"),
        ("bash", "git diff HEAD~1"),
        ("bash", "ls"),
        ("bash", "cat x"),
        ("bash", "tar tf evil.tar"),  # lists
        ("bash", "tar czf out.tgz src"),  # creates an archive it names
        ("bash", "tar xf evil.tar -C build"),  # a tree into a folder with no project file
        ("bash", "rsync -a src/ build/"),
        ("bash", "cp -r src build/"),
        ("bash", "python3 script.py"),  # a script by file: a known limit
        ("bash", "python3 --version"),
        ("bash", "awk '{ print $1 }' x"),  # an awk program that cannot write
    ],
)
async def test_harmless_requests_are_still_allowed(
    live: Live, root: Path, project: Path, permission: str, value: str
) -> None:
    """What touches none of it is decided by the rules as before."""
    session = await live.session(directory=str(project))
    value = _fill(value, root, project)
    if permission == "edit":
        asked = await edit(live, session["id"], value)
    else:
        asked = await bash(live, session["id"], value)
    assert (asked["effect"], asked["state"]) == ("allow", "replied")
    assert "protected" not in asked["metadata"]


async def test_a_deny_rule_stays_a_deny(live: Live, project: Path) -> None:
    """Protection only tightens: a write the rules deny is denied."""
    deny = [{"permission": "edit", "pattern": "*.toml", "action": "deny"}]
    session = await live.session(directory=str(project), permission=deny)
    asked = await edit(live, session["id"], "agentactors.toml")
    assert (asked["effect"], asked["state"]) == ("deny", "replied")


async def test_a_glob_counts_where_the_file_exists(live: Live, project: Path) -> None:
    """`rm -rf build/*` asks once `build/agentactors.toml` exists (the glob would reach it)."""
    (project / "build" / "agentactors.toml").write_text("", encoding="utf-8")
    session = await live.session(directory=str(project))
    asked = await bash(live, session["id"], "rm -rf build/*")
    assert (asked["effect"], asked["metadata"]["protected"]) == ("ask", ["build/*"])


async def test_a_tree_counts_where_a_project_file_exists(live: Live, project: Path) -> None:
    """`tar xf evil.tar -C build` asks once `build/agentactors.toml` exists."""
    session = await live.session(directory=str(project))
    assert (await bash(live, session["id"], "tar xf evil.tar -C build"))["effect"] == "allow"
    (project / "build" / "agentactors.toml").write_text("", encoding="utf-8")
    asked = await bash(live, session["id"], "tar xf evil.tar -C build")
    assert (asked["effect"], asked["metadata"]["protected"]) == ("ask", [str(project / "build")])


async def test_auto_approve_does_not_release_protected_writes(live: Live, project: Path) -> None:
    """The bundled auto-approve plugin, told to allow everything, allows all but these."""
    everything = {"rules": [{"permission": "*", "pattern": "*"}]}
    start_plugins([], str(project), extra=[PluginSpec("bundled", everything, AutoApprove)])
    session = await live.session(directory=str(project), permission=ASK_EDITS)
    harmless = await edit(live, session["id"], "src/app.py")
    assert (harmless["effect"], harmless["decidedBy"]["name"]) == ("allow", "auto-approve")
    for path in ("agentactors.toml", ".agentactors/plugins/x.py"):
        asked = await edit(live, session["id"], path)
        assert (asked["effect"], asked["state"]) == ("ask", "pending")
    asked = await bash(live, session["id"], "cp x .agentactors/plugins/")
    assert (asked["effect"], asked["state"]) == ("ask", "pending")


async def test_saved_always_approvals_do_not_release_protected_writes(
    live: Live, project: Path
) -> None:
    """An "always" for `*`, or for the protected path itself, never lets one through."""
    session = await live.session(directory=str(project), permission=ASK_EDITS)
    protected = await edit(live, session["id"], "agentactors.toml")
    harmless = await edit(live, session["id"], "src/app.py", always=["*"])
    assert protected["effect"] == harmless["effect"] == "ask"
    reply = await live.client.post(f"/permission/{harmless['id']}/reply", json={"reply": "always"})
    assert reply.status_code == 200, reply.text
    # the "always" cascade released nothing protected
    still = (await live.client.get(f"/permission/{protected['id']}")).json()
    assert still["state"] == "pending"
    assert (await edit(live, session["id"], "src/other.py"))["effect"] == "allow"
    assert (await edit(live, session["id"], "agentactors.toml"))["effect"] == "ask"
    # "always" on the protected request itself saves its path, which still asks
    reply = await live.client.post(f"/permission/{protected['id']}/reply", json={"reply": "always"})
    assert reply.status_code == 200, reply.text
    assert (await edit(live, session["id"], "agentactors.toml"))["effect"] == "ask"


async def test_protection_outlives_a_permission_crash(live: Live, project: Path) -> None:
    """A pending protected request, recovered from the data dir, is still never released
    by an "always" cascade."""
    session = await live.session(directory=str(project), permission=ASK_EDITS)
    protected = await edit(live, session["id"], ".agentactors/plugins/x.py")
    with trio.fail_after(10), pytest.raises(ServiceCrashed):
        await acall(PERMISSION, Crash("simulated"))
    harmless = await edit(live, session["id"], "src/app.py", always=["*"])
    reply = await live.client.post(f"/permission/{harmless['id']}/reply", json={"reply": "always"})
    assert reply.status_code == 200, reply.text
    still = (await live.client.get(f"/permission/{protected['id']}")).json()
    path = str(project / ".agentactors" / "plugins" / "x.py")
    assert (still["state"], still["metadata"]["protected"]) == ("pending", [path])


@pytest.mark.parametrize(
    ("command", "protected"),
    [
        ("rm *", False),  # the directory holds no agentactors.toml
        ("cp x */", False),
        ("cp x .*/plugins", True),  # .agentactors exists
        ("cp x b[u]ild/*", True),  # a later component could match under any expansion
        ("cp x '" + "[" * 5000 + "'", True),  # longer than a path: a glob still counts
        ("cp x '" + "a/" * 2500 + "'", False),  # a literal path the kernel refuses
        ("cp x --target-directory=.agentactors", True),
        ("cp x $D", False),  # not visible: written down as a limit
        ("ls -la .agentactors/plugins", False),
        ("awk '{ print $1 }' x", False),  # braces without a comma do not expand
        ("echo {a,b}", False),  # a reader
        ("tar xf x.tar -C .agentactors", True),
        ("tar xf x.tar -C build", False),
        ("cp -r /tmp/x ..", True),  # above the session directory
        ("unzip -l x.zip", False),
        ("git stash list", False),
        ("git -C src pull", True),  # a work tree may hold any directory's files
        ("rsync -av -e ssh ./ host:/backup", False),  # the destination is remote
        ("perl -pe s/a/b/ x", True),
        ("python3 -m pytest", False),  # a module by file: a known limit
    ],
)
def test_shell_arguments_table(project: Path, command: str, protected: bool) -> None:
    """Which shell arguments may name a protected path (globs, options, lengths), which
    trees land where one may be, which code may write one."""
    derived = Protected.of().mark(
        derive("bash", [], {"command": command}, str(project)), str(project)
    )
    assert bool(derived.protected) is protected


@pytest.mark.parametrize("kind", ["Edit", "EDIT", "write", "multiedit", "MultiEdit", "apply_patch",
    "patch", "notebookedit", "NotebookEdit", "write_file"])  # fmt: skip
@pytest.mark.parametrize("key", ["path", "filePath", "file_path"])
async def test_every_kind_that_may_write_is_protected(
    live: Live, project: Path, kind: str, key: str
) -> None:
    """Rules allowing every kind: a file tool of any name, naming the project file in
    its metadata (with or without patterns), asks."""
    session = await live.session(directory=str(project), permission=ALLOW_ALL)
    asks = [{"patterns": ["src/app.py"], "metadata": {key: "agentactors.toml"}}]
    if key != "file_path":  # the keys a request without patterns may name its file by
        asks.append({"metadata": {key: "agentactors.toml"}})
    for body in asks:
        asked = await ask(live, session["id"], kind, **body)
        assert (asked["effect"], asked["state"]) == ("ask", "pending")
        assert [Path(p).name for p in asked["metadata"]["protected"]] == ["agentactors.toml"]


async def test_a_bash_kind_in_another_case_is_parsed_for_writes(live: Live, project: Path) -> None:
    """`Bash` with its command as a pattern: its own kind to the rules, but what it
    writes is seen as `bash`'s is."""
    session = await live.session(directory=str(project), permission=ALLOW_ALL)
    asked = await ask(live, session["id"], "Bash", patterns=["echo x > AgentActors.toml"])
    assert (asked["effect"], asked["state"]) == ("ask", "pending")
    harmless = await ask(live, session["id"], "Bash", patterns=["echo x > notes.txt"])
    assert harmless["effect"] == "allow"


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("Edit", {"metadata": {"path": "src/app.py"}}),
        ("apply_patch", {"patterns": ["src/app.py"]}),
        ("read", {"metadata": {"path": "agentactors.toml"}}),
        ("Read", {"metadata": {"filePath": ".agentactors/plugins/x.py"}}),
        ("grep", {"patterns": ["agentactors.toml"]}),
        ("webfetch", {"patterns": ["https://example.com/agentactors.toml"]}),
        ("todowrite", {"patterns": ["*"]}),
    ],
)
async def test_reads_and_other_files_stay_allowed(
    live: Live, project: Path, kind: str, body: dict[str, Any]
) -> None:
    """Kinds that write no file, and writes elsewhere, are decided by the rules."""
    (project / "agentactors.toml").write_text("", encoding="utf-8")
    session = await live.session(directory=str(project), permission=ALLOW_ALL)
    asked = await ask(live, session["id"], kind, **body)
    assert (asked["effect"], asked["state"]) == ("allow", "replied")


@pytest.mark.parametrize(
    ("target", "write"),
    [
        ("<project>/agentactors.toml", ("edit", "src/notes.txt")),
        ("<project>/agentactors.toml", ("bash", "sed -i s/a/b/ src/notes.txt")),
        ("<project>/.agentactors/plugins/p.py", ("bash", "cp /tmp/x src/notes.txt")),
        ("<root>/config.toml", ("edit", "src/notes.txt")),  # a loaded config file
    ],
)
async def test_a_hard_link_to_a_protected_file_is_protected(
    live: Live, root: Path, project: Path, target: str, write: tuple[str, str]
) -> None:
    """A write through another name of a protected file (same inode) asks."""
    protected = Path(_fill(target, root, project))
    if not protected.exists():
        protected.write_text("", encoding="utf-8")
    (project / "src" / "notes.txt").hardlink_to(protected)
    session = await live.session(directory=str(project))
    kind, value = write
    if kind == "edit":
        asked = await edit(live, session["id"], value)
    else:
        asked = await bash(live, session["id"], value)
    assert (asked["effect"], asked["state"]) == ("ask", "pending")
    assert [Path(p).name for p in asked["metadata"]["protected"]] == ["notes.txt"]
