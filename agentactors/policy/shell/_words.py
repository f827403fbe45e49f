"""Shell words for permission checks: quote removal, expansions, substitutions inside.

The word-level half of the walker in ``_walk``: ``WordWalker.word(node)`` gives a
word's text after quote removal (``PLACEHOLDER`` where an expansion is), whether it is
literal and whether globbing may change it, and on the way collects every command hidden
inside it (``$(…)``, backticks, ``<(…)``, ``${x:-$(…)}``, arithmetic) and flags the
expansions that evaluate code (arithmetic on variables, ``${!x}``, ``${x@P}``).
"""

from __future__ import annotations

import re
from typing import Final

import attrs
import tree_sitter

from ._budget import Budget
from ._text import (
    decode_ansi_c,
    display_text,
    has_unquoted_pattern,
    unescape_double_quoted,
    unescape_unquoted,
)
from ._wrappers import Word, is_quiet_target

__all__ = ["MAX_DEPTH", "PLACEHOLDER", "Out", "SimpleCommand", "WordWalker", "display_text"]

MAX_DEPTH: Final = 8  # nested sh -c / eval / backtick re-parses, and nested wrappers
PLACEHOLDER: Final = "⟨expansion⟩"  # stands for a word part we cannot know ($X, $(…), …)

WORDS: Final = frozenset(
    {"word", "number", "raw_string", "ansi_c_string", "string", "translated_string"}
    | {"concatenation", "simple_expansion", "expansion", "command_substitution"}
    | {"process_substitution", "arithmetic_expansion", "brace_expression"}
    | {"extglob_pattern", "regex", "array"}
)
_LITERALS: Final = frozenset(
    {"word", "number", "raw_string", "ansi_c_string", "brace_expression", "extglob_pattern"}
    | {"regex"}
)
SUBSTITUTIONS: Final = frozenset({"command_substitution", "process_substitution"})
NUMBER = re.compile(r"-?(?:[0-9]+|0[xX][0-9a-fA-F]+|[0-9]+#[0-9a-zA-Z@_]+)")
EVALUATED_SUBSCRIPT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\[[^\]]*[$`]")
ARITH_REASON: Final = "arithmetic on a variable can run code (a[$(…)] injection)"
_BACKTICK_ESCAPE = re.compile(rb"\\[`$\\]")


@attrs.frozen
class SimpleCommand:
    """One command a shell line runs, as rules see it."""

    words: tuple[str, ...]  # literal words after quote removal and wrapper stripping
    allow_text: str  # for allow rules and saved approvals: unsafe VAR=value kept in front
    deny_text: str  # for deny rules: every assignment stripped, the name without its path


@attrs.define
class Out:
    """What one analysis collects, shared by the walkers of nested code."""

    commands: list[tuple[SimpleCommand, str | None]] = attrs.Factory(list)  # (command, always)
    writes: list[str] = attrs.Factory(list)
    reasons: list[str] = attrs.Factory(list)
    budget: Budget = attrs.Factory(Budget)
    incomplete: bool = False  # nesting was cut short: deny rules also get the plain split


class WordWalker:
    """Words and expansions; statements are the subclass's (``visit``, ``parse_code``)."""

    def __init__(self, out: Out, depth: int) -> None:
        self.out = out
        self.depth = depth
        self.src = b""
        self.broken = False

    def visit(self, node: tree_sitter.Node) -> None:
        raise NotImplementedError

    def parse_code(self, code: str) -> None:
        raise NotImplementedError

    def opaque(self, reason: str) -> None:
        self.out.reasons.append(reason)

    def text(self, node: tree_sitter.Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    # -- words --------------------------------------------------------------------------

    def word(self, node: tree_sitter.Node) -> Word:
        """The word ``node`` after quote removal; collects the commands inside it.

        Raises ``Refused`` when the analysis is over its budget (``_budget``).
        """
        budget = self.out.budget
        budget.enter()
        word = self._word(node)
        budget.leave()
        return word

    def _word(self, node: tree_sitter.Node) -> Word:
        kind = node.type
        if kind in _LITERALS:
            raw = self.text(node)
            if kind == "word" and "\n" in raw:
                self.opaque("a line break inside a word")  # safety net for _joined_line
            return self.literal(kind, raw)
        if kind == "string":
            return self.string(node)
        if kind == "concatenation":
            return self.concatenation(node)
        if kind in SUBSTITUTIONS:
            self.substitution(node)
        elif kind == "expansion":
            self.expansion(node)
        elif kind == "arithmetic_expansion":
            self.arithmetic(node)
        elif kind in ("simple_expansion", "translated_string", "array"):
            for child in node.children:
                self.visit(child)
        elif node.is_named:
            self.visit(node)
        return Word(PLACEHOLDER, False)

    @staticmethod
    def literal(kind: str, raw: str) -> Word:
        if kind == "word":
            return Word(unescape_unquoted(raw), True, has_unquoted_pattern(raw))
        if kind == "raw_string":
            return Word(raw[1:-1])
        if kind == "ansi_c_string":
            return Word(decode_ansi_c(raw[2:-1]))
        if kind == "number":
            return Word(raw)
        return Word(raw, True, True)  # brace_expression, extglob_pattern, regex

    def concatenation(self, node: tree_sitter.Node) -> Word:
        parts = [self.word(child) for child in node.children]
        # tree-sitter splits "[r]m" into "[", "r", "]", "m": look at the unquoted whole
        unquoted = "".join(self.text(c) if c.type == "word" else "x" for c in node.children)
        return Word(
            "".join(p.text for p in parts),
            all(p.literal for p in parts),
            any(p.pattern for p in parts) or has_unquoted_pattern(unquoted),
        )

    def string(self, node: tree_sitter.Node) -> Word:
        parts: list[str] = []
        literal = True
        position = node.start_byte + 1
        for child in node.children:
            if child.start_byte > position:
                gap = self.src[position : child.start_byte].decode("utf-8", "replace")
                parts.append(unescape_double_quoted(gap))
            position = max(position, child.end_byte)
            if child.type == '"':
                continue
            if child.type == "string_content":
                parts.append(unescape_double_quoted(self.text(child)))
            else:
                part = self.word(child)
                literal = literal and part.literal
                parts.append(part.text)
        return Word("".join(parts), literal)

    def substitution(self, node: tree_sitter.Node) -> None:
        children = node.children
        if children and children[0].type == "`":
            end = node.end_byte - 1 if children[-1].type == "`" else node.end_byte
            inner = self.src[children[0].end_byte : end]
            if _BACKTICK_ESCAPE.search(inner):
                # inside backticks \` \$ \\ are unescaped before parsing: parse it that way
                code = re.sub(rb"\\([`$\\])", rb"\1", inner)
                self.parse_code(code.decode("utf-8", "surrogateescape"))
                return
        for child in children:
            self.visit(child)

    def expansion(self, node: tree_sitter.Node) -> None:
        children = node.children
        if len(children) > 1 and children[1].type == "!":
            self.opaque("an indirect expansion ${!…} can run code")
        if any(child.type == "P" for child in children):
            self.opaque("a prompt expansion ${…@P} runs command substitutions in the value")
        after_offset = False
        for child in children:
            if child.type == ":":
                after_offset = True
            elif child.type == "subscript":
                self.subscript(child)
            elif after_offset and child.is_named and not NUMBER.fullmatch(self.text(child)):
                self.opaque(ARITH_REASON)
                self.visit(child)
            elif child.type in WORDS:
                self.word(child)

    def subscript(self, node: tree_sitter.Node) -> None:
        index = node.child_by_field_name("index")
        if index is None:
            return
        text = self.text(index)
        if not (NUMBER.fullmatch(text) or text in ("@", "*")):
            self.opaque(ARITH_REASON)
        self.word(index)

    def arithmetic(self, node: tree_sitter.Node) -> None:
        """``$((…))``, ``((…))``, ``for ((…))``: variables in them are evaluated as code."""
        stack = list(node.children)
        while stack:
            child = stack.pop()
            self.out.budget.step()
            kind = child.type
            if kind in SUBSTITUTIONS:
                self.substitution(child)
                continue
            if kind in ("variable_name", "simple_expansion", "expansion", "subscript") or (
                kind == "word" and not NUMBER.fullmatch(self.text(child))
            ):
                self.opaque(ARITH_REASON)
            if kind == "do_group":
                self.visit(child)
            else:
                stack.extend(child.children)

    def write(self, target: Word) -> None:
        """Record a written file; one we cannot name exactly cannot be checked: opaque."""
        if not target.literal:
            self.opaque(f"writes a file named by an expansion: {display_text(target.text)}")
        elif target.pattern:
            self.opaque(f"writes files named by a glob pattern: {display_text(target.text)}")
        if not is_quiet_target(target.text):
            self.out.writes.append(target.text)
