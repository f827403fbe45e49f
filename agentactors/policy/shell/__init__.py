"""The shell analyser: what a bash command runs, reads and writes, as the words rules
match (see ``design/shell-matching.md``).  Imports nothing else of agentactors."""

from ._analysis import BashAnalysis, analyse_bash, display_text

__all__ = ["BashAnalysis", "analyse_bash", "display_text"]
