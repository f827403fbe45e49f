"""Configuration layers and the errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentactors.actors import ConfigError, InvalidRequest, Rule, load_config, parse_ruleset


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
