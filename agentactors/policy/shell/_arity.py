"""The command-arity table behind "always" patterns for shell commands.

Approving a command "always" saves ``<prefix> *`` where the prefix is the command name plus
as many sub-command words as the table says: ``git checkout main`` saves ``git checkout *``,
``docker compose up -d`` saves ``docker compose up *``, an unknown ``ls -la`` saves
``ls *``.  The longest listed prefix wins (``docker compose`` is 3 although ``docker`` is
2).  Flags never count as sub-command words; a flag met before the prefix is complete
is kept in the prefix when the table knows it (``git -C repo status *``), and an unknown
one makes the pattern the exact command (we cannot tell whether it takes a value, so we
cannot tell where the sub-command is).  A command with fewer words than its arity is
also saved exactly: approving a bare ``git`` must not save ``git *``.

Commands that run code given as an argument (interpreters, ``source``) and commands that
change the shell's own state (``export``, ``alias``, assignments) are always saved
exactly: ``python *`` or ``export *`` would approve arbitrary code.
"""

from __future__ import annotations

import os.path
import re
from collections.abc import Sequence
from typing import Final

# prefix (words joined by one space) -> how many words form the command prefix
ARITY: Final[dict[str, int]] = {
    "apt": 2,
    "apt-get": 2,
    "aws": 3,
    "az": 3,
    "brew": 2,
    "bun": 2,
    "bun run": 3,
    "bundle": 2,
    "cargo": 2,
    "composer": 2,
    "conda": 2,
    "deno": 2,
    "deno task": 3,
    "docker": 2,
    "docker buildx": 3,
    "docker compose": 3,
    "docker container": 3,
    "docker image": 3,
    "docker network": 3,
    "docker system": 3,
    "docker volume": 3,
    "dotnet": 2,
    "gcloud": 3,
    "gh": 3,
    "git": 2,
    "git remote": 3,
    "git stash": 3,
    "git submodule": 3,
    "git worktree": 3,
    "go": 2,
    "go mod": 3,
    "gradle": 2,
    "helm": 2,
    "hatch": 2,
    "ip": 3,
    "just": 2,
    "kubectl": 2,
    "kubectl config": 3,
    "kubectl rollout": 3,
    "make": 2,
    "mvn": 2,
    "npm": 2,
    "npx": 2,
    "pip": 2,
    "pip3": 2,
    "pipx": 2,
    "pnpm": 2,
    "podman": 2,
    "poetry": 2,
    "rustup": 2,
    "systemctl": 2,
    "terraform": 2,
    "uv": 2,
    "uv pip": 3,
    "yarn": 2,
}

# flags that take a value, allowed before the sub-command (prefix -> flags)
VALUE_FLAGS: Final[dict[str, frozenset[str]]] = {
    "git": frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env"}),
    "docker": frozenset({"-H", "--host", "--context", "-c", "--config", "-l", "--log-level"}),
    "docker compose": frozenset(
        {"-f", "--file", "-p", "--project-name", "--profile", "--env-file"}
    ),
    "kubectl": frozenset({"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user"}),
    "npm": frozenset({"--prefix", "-w", "--workspace"}),
    "make": frozenset({"-C", "-f"}),
    "uv": frozenset({"--directory", "--project"}),
}

# flags without a value allowed before the sub-command
BOOL_FLAGS: Final[dict[str, frozenset[str]]] = {
    "git": frozenset(
        {"--no-pager", "-p", "--paginate", "-P", "--bare", "--no-replace-objects"}
        | {"--literal-pathspecs", "--no-optional-locks"}
    ),
    "docker": frozenset({"-D", "--debug"}),
    "npm": frozenset({"-s", "--silent", "-q", "--quiet"}),
    "make": frozenset({"-s", "--silent", "-k", "-B", "-n"}),
}

# saved exactly, never as "<prefix> *"
EXACT: Final[frozenset[str]] = frozenset(
    {
        # interpreters: their arguments are code
        "awk", "gawk", "lua", "node", "nodejs", "osascript", "perl", "php",
        "pwsh", "python", "python2", "python3", "pypy", "pypy3", "Rscript", "ruby",
        # shells running a script file
        "ash", "bash", "dash", "fish", "ksh", "mksh", "sh", "zsh",
        # change the shell itself
        "doas", "su", "sudo", "sudoedit",
        ".", "alias", "declare", "export", "local", "readonly", "set", "shopt", "source",
        "trap", "typeset", "unalias", "unset",
    }
)  # fmt: skip

_PYTHON_VERSIONED = re.compile(r"python[0-9][0-9.]*")


def _is_exact(base: str) -> bool:
    return base in EXACT or _PYTHON_VERSIONED.fullmatch(base) is not None


def prefix_length(words: Sequence[str]) -> int | None:
    """How many leading ``words`` form the always prefix; ``None``: save the command exactly.

    ``words`` are the command's literal words (name first).  Never raises.
    """
    if not words:
        return None
    base = os.path.basename(words[0]) or words[0]
    if _is_exact(base):
        return None
    positional = [base]
    arity = ARITY.get(base, 1)
    index = 1
    while len(positional) < arity:
        if index >= len(words):
            return None  # fewer words than the arity: exactly what was approved
        word = words[index]
        key = " ".join(positional)
        if word.startswith("-") and word != "-":
            name, has_value, _ = word.partition("=")
            if name in VALUE_FLAGS.get(key, frozenset()):
                index += 1 if has_value else 2
                continue
            if word in BOOL_FLAGS.get(key, frozenset()):
                index += 1
                continue
            return None  # an unknown flag: we cannot tell where the sub-command is
        positional.append(word)
        index += 1
        arity = ARITY.get(" ".join(positional), arity)
    return index
