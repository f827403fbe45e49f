"""Pure decisions: rules and their matching, the config layers, the checks derived from
an ask, protected paths, and ``decide``.  No actor, no I/O beyond reading config files
and resolving paths; imports only ``agentactors.model`` and ``shell/`` (the shell
analyser).  See ``design/actor-map.md``.
"""

from ._config import Config, default_data_dir, load_config, parse_ruleset
from ._decide import Decision, decide_checks
from ._derive import PATH_KEYS, Derived, derive
from ._protected import Protected, protected_of
from ._rules import wildcard_match

__all__ = [
    "PATH_KEYS",
    "Config",
    "Decision",
    "Derived",
    "Protected",
    "decide_checks",
    "default_data_dir",
    "derive",
    "load_config",
    "parse_ruleset",
    "protected_of",
    "wildcard_match",
]
