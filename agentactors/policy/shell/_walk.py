"""The statement walker behind ``analyse_bash`` (see ``_analysis`` and design/shell-matching.md).

Walks a tree-sitter-bash tree with an allow-list of node types: every simple command
is emitted with the text allow rules see and the text deny rules see, wrappers are
unwrapped (``_wrappers``), literal ``sh -c``/``eval`` code is parsed again, and
anything not modelled — or modelled as dangerous — is recorded as a reason, which makes
the whole analysis opaque.  Also repairs the two places found where tree-sitter and bash
read the same text differently (a line starting with a backslash, a line continuation
inside a word).  Every parse and every node walked counts against the analysis's
``Budget``: past it the walk raises ``Refused`` (``_budget``).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from typing import Final, Literal, TypeAlias

import attrs
import tree_sitter
import tree_sitter_bash

from ._arity import prefix_length
from ._budget import Budget
from ._text import display_text
from ._words import (
    ARITH_REASON,
    EVALUATED_SUBSCRIPT,
    MAX_DEPTH,
    NUMBER,
    PLACEHOLDER,
    WORDS,
    SimpleCommand,
    WordWalker,
)
from ._wrappers import Unwrap, Word, basename, describe

__all__ = ["SAFE_ENV_VARS", "Walker"]

# leading VAR=value assignments allow rules may look past (a literal value only)
SAFE_ENV_VARS: Final[frozenset[str]] = frozenset(
    {
        "LANG", "LANGUAGE", "LC_ALL", "LC_COLLATE", "LC_CTYPE", "LC_MESSAGES", "LC_MONETARY",
        "LC_NUMERIC", "LC_TIME", "TZ", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR",
        "CLICOLOR", "CLICOLOR_FORCE", "COLUMNS", "LINES", "TIME_STYLE", "LS_COLORS",
        "GREP_COLORS", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING",
        "PYTHONHASHSEED", "NODE_ENV", "RUST_BACKTRACE", "RUST_LOG", "GOOS", "GOARCH",
        "CGO_ENABLED", "CI", "DEBUG",
    }
)  # fmt: skip

_Prefix: TypeAlias = tuple[str, ...] | Literal["exact"] | None

_CONTAINERS: Final = frozenset(
    {"program", "subshell", "do_group", "negated_command"}
    | {"if_statement", "elif_clause", "else_clause", "while_statement", "for_statement"}
    | {"case_statement", "case_item", "heredoc_redirect"}
    | {"heredoc_body", "herestring_redirect", "compound_statement", "ERROR"}
)
_CHAINED: Final = frozenset({"list", "pipeline", "redirected_statement"})  # nest leftwards
_IGNORED: Final = frozenset(
    {"comment", "variable_name", "special_variable_name", "heredoc_start", "heredoc_end"}
    | {"heredoc_content", "file_descriptor", "test_operator", "string_content"}
)
_EXPRESSIONS: Final = frozenset(
    {"binary_expression", "unary_expression", "parenthesized_expression"}
    | {"ternary_expression", "postfix_expression"}
)
_RESERVED: Final = frozenset(
    {"{", "}", "!", "(", ")", "[[", "]]", "((", "))", "if", "then", "elif", "else", "fi"}
    | {"do", "done", "case", "esac", "while", "until", "for", "select", "function", "in"}
)
_OPENERS: Final = frozenset({"{", "!", "if", "then", "elif", "else", "do", "while", "until"})
_ARITH_TEST_OPS: Final = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})
_WRITE_OPS: Final = frozenset({">", ">>", "&>", "&>>", ">|"})
_CONTINUATION = re.compile(rb"\\\n")
_BLANK: Final = (b"", b" ", b"\t", b"\n")
_CONTINUATION_OK: Final = frozenset(
    {"raw_string", "comment", "heredoc_body", "heredoc_content", "string_content"}
    | {"ansi_c_string"}
)
_LANGUAGE: Final = tree_sitter.Language(tree_sitter_bash.language())
_WORD_QUERY: Final = tree_sitter.Query(_LANGUAGE, "(word) @word")
_MAX_REPARSES: Final = 64
_local = threading.local()


@attrs.frozen
class _Assign:
    text: str  # as it would be written: NAME=value
    name: str
    safe: bool


def _parser() -> tree_sitter.Parser:
    parser: tree_sitter.Parser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = tree_sitter.Parser(_LANGUAGE)
        _local.parser = parser
    return parser


def _word_cursor() -> tree_sitter.QueryCursor:
    cursor: tree_sitter.QueryCursor | None = getattr(_local, "cursor", None)
    if cursor is None:
        cursor = tree_sitter.QueryCursor(_WORD_QUERY)
        _local.cursor = cursor
    return cursor


def _safe_pattern(text: str) -> bool:
    return PLACEHOLDER not in text and "*" not in text and "?" not in text


def _name_problem(name: Word) -> str | None:
    """Why a command name cannot be matched as written (None: it can)."""
    if not name.literal:
        return "an expansion"
    if name.pattern:
        return "glob or brace characters"
    if any(char.isspace() for char in name.text):
        return "white space"
    return None


def _joined_line(src: bytes, root: tree_sitter.Node) -> int | None:
    """The offset of an unescaped newline tree-sitter put inside an unquoted word."""
    if b"\n" not in src:
        return None
    for nodes in _word_cursor().captures(root).values():
        for node in nodes:
            text = src[node.start_byte : node.end_byte]
            index = text.find(b"\n")
            while index != -1:
                if index == 0 or text[index - 1] != 0x5C:
                    return node.start_byte + index
                index = text.find(b"\n", index + 1)
    return None


def _merged_line(src: bytes, root: tree_sitter.Node, budget: Budget) -> int | None:
    """Whether tree-sitter put words of two lines into one command.

    tree-sitter-bash 0.25 parses ``(a) | (b) | c d<newline>rm x && y`` as one command
    ``c d rm x`` (the newline lost), so ``rm`` would never be checked as a command name.
    In bash an unescaped newline between two words always ends a simple command, so a
    command node with one in a gap between its children was misparsed.  Returns the
    offset of that newline (None: no such gap).
    """
    if b"\n" not in src:
        return None
    stack = [root]
    while stack:
        node = stack.pop()
        budget.step()
        if node.type == "command":
            children = node.children
            for before, after in itertools.pairwise(children):
                gap = src[before.end_byte : after.start_byte]
                index = gap.find(b"\n")
                while index != -1:
                    at = before.end_byte + index
                    if src[at - 1 : at] != b"\\":  # not a line continuation
                        return at
                    index = gap.find(b"\n", index + 1)
        stack.extend(node.children)
    return None


class Walker(WordWalker):
    """Walks one parsed source; nested code (sh -c, eval, backticks) gets its own walker."""

    # -- entry points -------------------------------------------------------------------

    def run(self, src: bytes) -> None:
        """Parse ``src`` and walk it; raises ``Refused`` when over the budget."""
        budget = self.out.budget
        root = budget.parse(_parser(), src)
        for _ in range(_MAX_REPARSES):
            joined = _joined_line(src, root)
            merged = None if joined is not None else _merged_line(src, root, budget)
            if joined is not None:
                # tree-sitter lexes "a\n\\rm" as ONE command "a" with the argument
                # "\n\\rm"; bash runs a, then rm.  A space after that newline (where bash
                # sees a command separator) makes tree-sitter agree, meaning unchanged.
                src = src[: joined + 1] + b" " + src[joined + 1 :]
            elif merged is not None:
                # The newline ends the command in bash; an explicit ";" before it says
                # the same to tree-sitter.
                src = src[:merged] + b";" + src[merged:]
            else:
                break
            root = budget.parse(_parser(), src)
        else:
            self.opaque("too many lines tree-sitter joins")
        self.src = src
        if root.has_error:
            self.broken = True
            self.opaque("the command does not parse as bash")
        self.check_continuations(root)
        self.visit(root)

    def parse_code(self, code: str) -> None:
        if self.depth >= MAX_DEPTH:
            self.opaque("shell code nested too deeply")
            self.out.incomplete = True
            return
        Walker(self.out, self.depth + 1).run(code.encode("utf-8", "surrogateescape"))

    def check_continuations(self, root: tree_sitter.Node) -> None:
        """tree-sitter splits ``r\\<newline>m`` into two words where bash sees ``rm``."""
        src = self.src
        for match in _CONTINUATION.finditer(src):
            i = match.start()
            k = i
            while k > 0 and src[k - 1] == 0x5C:
                k -= 1
            if (i - k) % 2:
                continue  # the backslash is itself escaped
            if src[i - 1 : i] in _BLANK or src[i + 2 : i + 3] in _BLANK:
                continue  # between words: plain whitespace to both
            node = root.descendant_for_byte_range(i, i + 2)
            if node is None or node.type not in _CONTINUATION_OK:
                self.opaque("a line continuation inside a word")
                return

    # -- statements ---------------------------------------------------------------------

    def visit(self, node: tree_sitter.Node) -> None:
        """Walk one statement (or anything below one); raises ``Refused`` over budget."""
        budget = self.out.budget
        budget.enter()
        self._visit(node)
        budget.leave()

    def _visit(self, node: tree_sitter.Node) -> None:
        kind = node.type
        if not node.is_named or node.is_missing or kind in _IGNORED:
            return
        handler = _STATEMENTS.get(kind)
        if handler is not None:
            handler(self, node)
        elif kind in _CHAINED:
            self.chain(node)
        elif kind == "compound_statement" and node.child_count and node.children[0].type == "((":
            self.arithmetic(node)
        elif kind in _CONTAINERS:
            for child in node.children:
                self.visit(child)
        elif kind in WORDS:
            self.word(node)
        else:
            if not self.broken:
                self.opaque(f"unsupported shell construct: {kind}")
            for child in node.children:
                self.visit(child)

    def chain(self, node: tree_sitter.Node) -> None:
        """``a && b > f || c``, ``a >&2 | b``: a chain tree-sitter nests to the left (lists,
        pipelines, redirections of them), walked without recursion, children in order."""
        chain = [node]
        while chain[-1].child_count and chain[-1].children[0].type in _CHAINED:
            chain.append(chain[-1].children[0])
        for link in reversed(chain):
            children = link.children
            if link is chain[-1] and children:
                self.visit(children[0])
            for child in children[1:]:
                self.visit(child)

    def command(self, node: tree_sitter.Node) -> None:
        assigns: list[_Assign] = []
        words: list[Word] = []
        for i, child in enumerate(node.children):
            kind = child.type
            if child.is_missing or (
                kind == "command_name"
                and child.named_children[:1]
                and child.named_children[0].is_missing
            ):
                continue  # inserted by error recovery (already opaque)
            if kind == "variable_assignment":
                assigns.append(self.assignment(child))
            elif kind == "file_redirect":
                self.redirect(child)
            elif kind in ("herestring_redirect", "heredoc_redirect"):
                self.visit(child)
            elif kind == "command_name":
                named = child.named_children
                words.append(self.word(named[0]) if named else Word(PLACEHOLDER, False))
            elif self.src[child.end_byte : child.end_byte + 1] in (b">", b"<") and re.fullmatch(
                r"\{[A-Za-z_][A-Za-z0-9_]*\}", self.text(child)
            ):
                continue  # `exec {fd}>file`: a redirection allocating a descriptor
            elif kind != "comment" and (child.is_named or node.field_name_for_child(i)):
                words.append(self.word(child))
        self.simple(assigns, words, 0)

    def simple(self, assigns: list[_Assign], words: list[Word], hops: int) -> _Prefix:
        """Emit one simple command (and what it wraps); return its always prefix."""
        if not words:
            for assign in assigns:
                self.bare_assignment(assign)
            return None
        name = words[0]
        problem = _name_problem(name)
        if problem is not None:
            self.opaque(f"the command name contains {problem}: {display_text(name.text)}")
            self.emit(assigns, words, None)
            return None
        if hops > MAX_DEPTH:
            self.opaque("wrappers nested too deeply")
            self.out.incomplete = True
            return None
        if name.text in _RESERVED:
            # tree-sitter reads `time { rm x; }` as the commands "time { rm x" and "}"
            if not self.broken:
                self.opaque(f"the reserved word {name.text!r} where a command was expected")
            return self.simple(assigns, words[1:], hops + 1) if name.text in _OPENERS else None
        unwrap = describe(words)
        if unwrap.opaque is not None:
            self.opaque(unwrap.opaque)
        for target in unwrap.writes:
            self.write(target)
        inner_prefixes = self.inner_commands(unwrap, assigns, words, hops)
        if unwrap.code is not None:
            self.parse_code(unwrap.code)
        if not unwrap.emit_self:
            return inner_prefixes[0] if inner_prefixes else None
        prefix = self.own_prefix(unwrap, words, inner_prefixes)
        self.emit(assigns, words, prefix)
        return prefix

    def inner_commands(
        self, unwrap: Unwrap, assigns: list[_Assign], words: list[Word], hops: int
    ) -> list[_Prefix]:
        """Emit the commands a wrapper runs; their always prefixes."""
        inner_assigns = assigns + [self.env_word(words[i]) for i in unwrap.env_words]
        prefixes: list[_Prefix] = []
        for start, end in unwrap.inners:
            inner = list(words[start:end])
            if unwrap.replace is not None:  # replaced by file names or input: not literal
                marker = unwrap.replace
                inner = [Word(w.text, False, w.pattern) if marker in w.text else w for w in inner]
            if unwrap.append_placeholder:
                inner.append(Word(PLACEHOLDER, False))
            prefixes.append(self.simple(inner_assigns, inner, hops + 1))
        return prefixes

    def own_prefix(self, unwrap: Unwrap, words: list[Word], inners: list[_Prefix]) -> _Prefix:
        """The always prefix of a command that is emitted itself (maybe wrapping others)."""
        if unwrap.prefix_from_inner and inners:
            # sudo -u x apt-get install y: "sudo -u x apt-get install *"
            inner = inners[0]
            own = tuple(w.text for w in words[: unwrap.inners[0][0]])
            return own + inner if isinstance(inner, tuple) else inner
        if unwrap.code is not None:
            return "exact"
        return self.prefix(words)

    @staticmethod
    def prefix(words: list[Word]) -> _Prefix:
        length = prefix_length([w.text for w in words])
        if length is None:
            return "exact"
        if not all(w.literal for w in words[:length]):
            return None
        return tuple(w.text for w in words[:length])

    def emit(
        self, assigns: list[_Assign], words: list[Word], prefix: _Prefix, *, plain: bool = True
    ) -> None:
        unsafe = [a.text for a in assigns if not a.safe]
        texts = [w.text for w in words]
        allow_text = " ".join([*unsafe, *texts])
        deny_words = list(texts)
        if plain and words[0].literal:
            deny_words[0] = basename(texts[0])
        always: str | None = None
        if prefix == "exact":
            always = allow_text if _safe_pattern(allow_text) else None
        elif prefix is not None:
            head = " ".join([*unsafe, *prefix])
            always = f"{head} *" if _safe_pattern(head) else None
        command = SimpleCommand(tuple(texts), allow_text, " ".join(deny_words))
        self.out.commands.append((command, always))

    # -- assignments and declarations ---------------------------------------------------

    def assignment(self, node: tree_sitter.Node) -> _Assign:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        subscripted = name_node is not None and name_node.type == "subscript"
        if name_node is not None and subscripted:
            self.subscript(name_node)
        name = self.text(name_node) if name_node is not None else ""
        operator = "+=" if any(c.type == "+=" for c in node.children) else "="
        value = self.word(value_node) if value_node is not None else Word("")
        safe = not subscripted and operator == "=" and name in SAFE_ENV_VARS and value.literal
        return _Assign(f"{name}{operator}{value.text}", name, safe)

    def env_word(self, word: Word) -> _Assign:
        name = word.text.partition("=")[0].removesuffix("+")
        safe = name in SAFE_ENV_VARS and word.literal and not word.text.startswith(f"{name}+")
        return _Assign(word.text, name, safe)

    def bare_assignment(self, assign: _Assign) -> None:
        """``NAME=value`` alone changes what later commands do when NAME is exported."""
        name = assign.name.partition("[")[0]
        if assign.safe or (name == name.lower() and not name.endswith("_proxy")):
            return  # a safe variable, or a shell-local one (environment names are upper case)
        self.emit([], [Word(assign.text, PLACEHOLDER not in assign.text)], "exact", plain=False)

    def assignments(self, node: tree_sitter.Node) -> None:
        for child in node.children:
            if child.type == "variable_assignment":
                self.bare_assignment(self.assignment(child))
            else:
                self.visit(child)

    def declaration(self, node: tree_sitter.Node) -> None:
        """``declare``/``export``/``local``/``readonly``/``typeset``/``unset``: exact only."""
        keyword = node.children[0].type
        words = [Word(keyword)]
        for child in node.children[1:]:
            if child.type == "variable_assignment":
                assign = self.assignment(child)
                words.append(Word(assign.text, PLACEHOLDER not in assign.text))
            elif child.type in ("variable_name", "special_variable_name"):
                words.append(Word(self.text(child)))
            elif child.type in WORDS:
                words.append(self.word(child))
            else:
                self.visit(child)
        for word in words[1:]:
            if EVALUATED_SUBSCRIPT.match(word.text):
                self.opaque(f"{keyword}: an array subscript with an expansion runs code")
            if keyword != "export" and re.fullmatch(r"[-+][a-zA-Z]*[in][a-zA-Z]*", word.text):
                self.opaque(f"{keyword} {word.text}: integer or reference variables run code")
        self.emit([], words, "exact", plain=False)

    def function(self, node: tree_sitter.Node) -> None:
        self.opaque("defines a shell function")
        body = node.child_by_field_name("body")
        if body is not None:
            self.visit(body)

    def test(self, node: tree_sitter.Node) -> None:
        """``[[ … ]]`` and ``[ … ]``: run nothing but substitutions; -eq & co. in [[ ]]."""
        double = bool(node.children) and node.children[0].type == "[["
        stack = list(node.children)
        while stack:
            child = stack.pop()
            self.out.budget.step()
            kind = child.type
            if kind in _EXPRESSIONS:
                operator = child.child_by_field_name("operator")
                if double and operator is not None and self.text(operator) in _ARITH_TEST_OPS:
                    for side in ("left", "right"):
                        operand = child.child_by_field_name(side)
                        if operand is not None and not NUMBER.fullmatch(self.text(operand)):
                            self.opaque(ARITH_REASON)
                stack.extend(child.children)
            elif kind in WORDS:
                word = self.word(child)
                if EVALUATED_SUBSCRIPT.match(word.text):
                    self.opaque("test: an array subscript with an expansion runs code")
            else:
                self.visit(child)

    # -- redirections -------------------------------------------------------------------

    def redirect(self, node: tree_sitter.Node) -> None:
        operator = ""
        for i, child in enumerate(node.children):
            field = node.field_name_for_child(i)
            if field == "destination":
                target = self.word(child)
                if child.type == "process_substitution":
                    continue
                if operator in _WRITE_OPS or (
                    operator == ">&" and not (target.text.isdigit() or target.text == "-")
                ):
                    self.write(target)
            elif not child.is_named and field is None:
                operator = child.type
            elif child.is_named and field != "descriptor":
                self.visit(child)


_STATEMENTS: Final[dict[str, Callable[[Walker, tree_sitter.Node], None]]] = {
    "command": Walker.command,
    "variable_assignment": lambda w, n: w.bare_assignment(w.assignment(n)),
    "variable_assignments": Walker.assignments,
    "declaration_command": Walker.declaration,
    "unset_command": Walker.declaration,
    "function_definition": Walker.function,
    "test_command": Walker.test,
    "c_style_for_statement": Walker.arithmetic,
    "file_redirect": Walker.redirect,
    "command_substitution": Walker.substitution,
    "process_substitution": Walker.substitution,
}
