"""Configuration layers and the errors that name file, line and key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentactors.model import MAX_RULES, ConfigError, InvalidRequest, Rule
from agentactors.policy import load_config, parse_ruleset


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_in_key_order(tmp_path: Path) -> None:
    """[permission] kinds and [permission.kind] patterns become rules in file order."""
    config = load_config(
        write(
            tmp_path / "c.toml",
            '[permission]\nread = "allow"\n[permission.bash]\n"*" = "ask"\n"rm *" = "deny"\n'
            "[requests]\ntimeout = 30\nreject_cascade = false\n",
        ),
        user_config=False,
    )
    assert config.rules_for(None) == (
        Rule("read", "*", "allow"),
        Rule("bash", "*", "ask"),
        Rule("bash", "rm *", "deny"),
    )
    assert config.request_timeout == 30
    assert config.reject_cascade is False


def test_project_layer_sits_between_user_and_cli(tmp_path: Path) -> None:
    """The project's agentactors.toml rules come before --config rules."""
    project = tmp_path / "project"
    project.mkdir()
    write(project / "agentactors.toml", '[permission.bash]\n"make *" = "allow"\n')
    config = load_config(
        write(tmp_path / "c.toml", '[permission.bash]\n"make deploy" = "deny"\n'),
        user_config=False,
    )
    rules = config.rules_for(str(project))
    assert [r.pattern for r in rules] == ["make *", "make deploy"]
    assert config.rules_for(str(tmp_path)) == (Rule("bash", "make deploy", "deny"),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[permission.bash]\n"git *" = "allwo"\n', r"c\.toml:2: key 'permission\.bash\.git \*'"),
        ('[permission]\nread = "sometimes"\n', r"c\.toml:2: key 'permission\.read'"),
        ("[permission\n", r"c\.toml:1: not valid TOML"),
        ('[requests]\ntimeout = "soon"\n', r"c\.toml:2: key 'requests\.timeout'"),
        ("plugins = 3\n", r"c\.toml:1: key 'plugins'"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    """A config that does not parse or holds a bad value fails with file, line and key."""
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path / "c.toml", text), user_config=False)


def test_missing_config_file(tmp_path: Path) -> None:
    """A --config path that does not exist is a clear error."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml", user_config=False)


def test_session_rulesets() -> None:
    """OpenCode's ruleset shape parses; bad entries name their index and field."""
    rules = parse_ruleset([{"permission": "bash", "pattern": "git *", "action": "allow"}])
    assert rules == (Rule("bash", "git *", "allow"),)
    with pytest.raises(InvalidRequest, match=r"permission\[1\]\.action"):
        parse_ruleset(
            [
                {"permission": "a", "pattern": "b", "action": "ask"},
                {"permission": "a", "pattern": "b", "action": "yes"},
            ]
        )
    with pytest.raises(InvalidRequest, match="list"):
        parse_ruleset({"bash": "allow"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[permision]\nbash = 'allow'\n", r":1: key 'permision': .*did you mean 'permission'\?"),
        ("[requests]\ntimout = 5\n", r":2: key 'requests\.timout': .*did you mean 'timeout'\?"),
        ("[events]\nbufer = 5\n", r"did you mean 'buffer'\?"),
        ("zzz = 1\n", r"key 'zzz': unknown key \(known: permission, plugins, "),
        ("requests = 5\n", r"key 'requests': must be a table"),
    ],
)
def test_unknown_keys_name_the_nearest_known_one(tmp_path: Path, text: str, expected: str) -> None:
    """A misspelled table or key is an error naming it and the key meant."""
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path / "c.toml", text), user_config=False)


@pytest.mark.parametrize(
    "text",
    ['plugins = ["x.py:X"]\n', "[requests]\ntimeout = 5\n", "[store]\nsynchronous = 'full'\n"],
)
def test_a_project_file_sets_permission_only(tmp_path: Path, text: str) -> None:
    """Plugins (code) and server-wide settings in a project file are refused, not ignored."""
    write(tmp_path / "agentactors.toml", text)
    config = load_config(None, user_config=False)
    with pytest.raises(ConfigError, match=r"a project file may set \[permission\] only"):
        config.rules_for(str(tmp_path))


def test_a_project_file_error_repeats_until_the_file_changes(tmp_path: Path) -> None:
    """A broken project file fails every read (from the cache) until it is fixed; the
    fix is read at the next call.  Other directories are not affected."""
    project = write(tmp_path / "agentactors.toml", '[permission]\nbash = "maybe"\n')
    config = load_config(None, user_config=False)
    for _ in range(3):
        with pytest.raises(ConfigError, match=r"agentactors\.toml:2: key 'permission\.bash'"):
            config.rules_for(str(tmp_path))
    assert config.rules_for(str(tmp_path / "elsewhere")) == ()
    write(project, '[permission]\nbash = "allow"\n')
    assert config.rules_for(str(tmp_path)) == (Rule("bash", "*", "allow"),)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"[permission]\n\xff\xfe = 1\n", r":2: not UTF-8 text"),
        (b"x" * (1 << 20) + b"x", r"larger than 1048576 bytes"),
        (b"[permission\n", r":1: not valid TOML"),
    ],
)
def test_unreadable_project_files_are_config_errors(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    """Random bytes, a huge file and bad TOML each name the file (and line)."""
    (tmp_path / "agentactors.toml").write_bytes(content)
    with pytest.raises(ConfigError, match=expected):
        load_config(None, user_config=False).rules_for(str(tmp_path))


def test_a_directory_that_is_not_a_path_has_no_project_file() -> None:
    """A NUL or a huge directory reads as having no project file (never a crash)."""
    config = load_config(None, user_config=False)
    assert config.rules_for("/tmp/a\x00b") == ()
    assert config.rules_for("/" + "x" * 10_000) == ()


def test_project_files_that_are_not_regular_files_are_refused_without_blocking(
    tmp_path: Path,
) -> None:
    """A FIFO (whose open would block until a writer came), a directory, a symlink loop
    and TOML nested deeper than the parser goes are ConfigErrors naming the file, never a
    hang or a crash."""
    project = tmp_path / "agentactors.toml"
    config = load_config(None, user_config=False)
    os.mkfifo(project)
    with pytest.raises(ConfigError, match="not a regular file"):
        config.rules_for(str(tmp_path))
    project.unlink()
    project.mkdir()
    with pytest.raises(ConfigError, match="not a regular file"):
        config.rules_for(str(tmp_path))
    project.rmdir()
    project.symlink_to(project)
    with pytest.raises(ConfigError, match="cannot read"):
        config.rules_for(str(tmp_path))
    project.unlink()
    write(project, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        config.rules_for(str(tmp_path))


def test_a_config_file_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    """--config naming a FIFO is an error at once, not a start that hangs."""
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(fifo, user_config=False)


def test_a_project_file_holds_at_most_max_rules(tmp_path: Path) -> None:
    """A project file with more rules than a session may have is refused (its rules are
    matched at every ask in its directory)."""
    rules = "".join(f'"z?{i}*" = "allow"\n' for i in range(MAX_RULES + 1))
    write(tmp_path / "agentactors.toml", "[permission.bash]\n" + rules)
    with pytest.raises(ConfigError, match=f"a project file may hold at most {MAX_RULES}"):
        load_config(None, user_config=False).rules_for(str(tmp_path))
