"""A small Go reader: enough of the language to read terraform-plugin-sdk schema literals.

Provider schemas are Go composite literals (``&schema.Resource{Schema: map[string]*schema.Schema{...}}``)
returned from package functions, with helper calls and package variables mixed in. Compiling the
provider is impossible offline, so this module tokenizes Go (with its automatic semicolon rule),
indexes a file's top-level declarations and parses expressions into a tiny AST. It reads; it never
evaluates (see ``evaluate.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Token kinds.
IDENT = "ident"
INT = "int"
FLOAT = "float"
STRING = "string"
CHAR = "char"
OP = "op"
SEMI = ";"
EOF = "eof"

_KEYWORDS = {
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
}
_KEYWORDS_ENDING_STATEMENT = {"break", "continue", "fallthrough", "return"}
_OPERATORS = sorted(
    [
        "<<=",
        ">>=",
        "&^=",
        "...",
        "&&",
        "||",
        "<-",
        "++",
        "--",
        "==",
        "!=",
        "<=",
        ">=",
        ":=",
        "+=",
        "-=",
        "*=",
        "/=",
        "%=",
        "&=",
        "|=",
        "^=",
        "<<",
        ">>",
        "&^",
        "+",
        "-",
        "*",
        "/",
        "%",
        "&",
        "|",
        "^",
        "<",
        ">",
        "=",
        "!",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        ";",
        ".",
        ":",
        "~",
    ],
    key=len,
    reverse=True,
)
_NUMBER = re.compile(r"0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?i?")
_IDENT = re.compile(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*")
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
}


class GoSyntaxError(ValueError):
    """Raised when the source is outside the subset of Go this reader understands."""


@dataclass(frozen=True)
class Token:
    """One Go token; ``value`` is the decoded literal for strings and the text otherwise."""

    kind: str
    value: str
    line: int


def _unquote(body: str, line: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt == "x":
            out.append(chr(int(body[i + 2 : i + 4], 16)))
            i += 4
        elif nxt == "u":
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif nxt == "U":
            out.append(chr(int(body[i + 2 : i + 10], 16)))
            i += 10
        elif nxt in "01234567":
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        else:
            msg = f"line {line}: unknown escape \\{nxt}"
            raise GoSyntaxError(msg)
    return "".join(out)


def tokenize(src: str) -> list[Token]:
    """Split Go source into tokens, inserting semicolons where the Go spec does."""
    tokens: list[Token] = []
    i, line, n = 0, 1, len(src)

    def needs_semicolon() -> bool:
        if not tokens:
            return False
        last = tokens[-1]
        if last.kind == IDENT:
            return last.value not in _KEYWORDS or last.value in _KEYWORDS_ENDING_STATEMENT
        if last.kind in (INT, FLOAT, STRING, CHAR):
            return True
        return last.kind == OP and last.value in {")", "]", "}", "++", "--"}

    while i < n:
        ch = src[i]
        if ch == "\n":
            if needs_semicolon():
                tokens.append(Token(SEMI, ";", line))
            line += 1
            i += 1
        elif ch in " \t\r":
            i += 1
        elif src.startswith("//", i):
            end = src.find("\n", i)
            i = n if end < 0 else end
        elif src.startswith("/*", i):
            end = src.find("*/", i + 2)
            if end < 0:
                msg = f"line {line}: unterminated comment"
                raise GoSyntaxError(msg)
            comment = src[i : end + 2]
            if "\n" in comment and needs_semicolon():
                tokens.append(Token(SEMI, ";", line))
            line += comment.count("\n")
            i = end + 2
        elif ch == '"':
            j = i + 1
            while j < n and src[j] != '"':
                if src[j] == "\n":
                    msg = f"line {line}: newline in string"
                    raise GoSyntaxError(msg)
                j += 2 if src[j] == "\\" else 1
            tokens.append(Token(STRING, _unquote(src[i + 1 : j], line), line))
            i = j + 1
        elif ch == "`":
            end = src.find("`", i + 1)
            raw = src[i + 1 : end].replace("\r", "")
            tokens.append(Token(STRING, raw, line))
            line += raw.count("\n")
            i = end + 1
        elif ch == "'":
            j = i + 1
            while src[j] != "'":
                j += 2 if src[j] == "\\" else 1
            tokens.append(Token(CHAR, _unquote(src[i + 1 : j], line), line))
            i = j + 1
        elif ch.isdigit() or (ch == "." and i + 1 < n and src[i + 1].isdigit()):
            m = _NUMBER.match(src, i)
            if m is None:  # pragma: no cover - the guard above guarantees a digit
                raise GoSyntaxError(f"line {line}: bad number")
            text = m.group(0)
            is_float = not text.lower().startswith(("0x", "0b", "0o")) and any(c in text for c in ".eE")
            tokens.append(Token(FLOAT if is_float else INT, text, line))
            i = m.end()
        elif (m := _IDENT.match(src, i)) is not None:
            tokens.append(Token(IDENT, m.group(0), line))
            i = m.end()
        else:
            for op in _OPERATORS:
                if src.startswith(op, i):
                    tokens.append(Token(OP if op != ";" else SEMI, op, line))
                    i += len(op)
                    break
            else:
                msg = f"line {line}: unexpected character {ch!r}"
                raise GoSyntaxError(msg)
    if needs_semicolon():
        tokens.append(Token(SEMI, ";", line))
    tokens.append(Token(EOF, "", line))
    return tokens


# ---------------------------------------------------------------------------------------------
# AST
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """Base of the expression AST; ``line`` points back into the source for error messages."""

    line: int


@dataclass(frozen=True)
class Ident(Node):
    name: str


@dataclass(frozen=True)
class Selector(Node):
    operand: Node
    name: str


@dataclass(frozen=True)
class BasicLit(Node):
    kind: str
    value: str


@dataclass(frozen=True)
class TypeExpr(Node):
    """A type written out in an expression (``map[string]*schema.Schema``, ``[]string``)."""

    text: str
    elem: str = ""


@dataclass(frozen=True)
class Element:
    """One element of a composite literal; ``key`` is None for positional elements."""

    key: Node | None
    value: Node


@dataclass(frozen=True)
class Composite(Node):
    """A composite literal; ``type_text`` is "" when the type is elided inside another literal."""

    type_text: str
    elem_type: str
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Call(Node):
    func: Node
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Index(Node):
    operand: Node
    index: Node


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class FuncLit(Node):
    """A function literal; its body is kept as tokens because nothing here needs to read it."""


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------

_BINARY_PRECEDENCE = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    "+": 4,
    "-": 4,
    "|": 4,
    "^": 4,
    "*": 5,
    "/": 5,
    "%": 5,
    "<<": 5,
    ">>": 5,
    "&": 5,
    "&^": 5,
}


@dataclass
class Parser:
    """Recursive-descent parser over a token list, starting at ``pos``."""

    tokens: list[Token]
    pos: int = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at(self, value: str) -> bool:
        return self.tok.value == value and self.tok.kind in (OP, SEMI)

    def expect(self, value: str) -> Token:
        if not self.at(value):
            msg = f"line {self.tok.line}: expected {value!r}, found {self.tok.value!r}"
            raise GoSyntaxError(msg)
        return self.advance()

    def skip_balanced(self) -> None:
        """Skip from an opening bracket to just past its matching closer."""
        pairs = {"(": ")", "[": "]", "{": "}"}
        stack = [pairs[self.advance().value]]
        while stack:
            token = self.advance()
            if token.kind == EOF:
                msg = "unbalanced brackets"
                raise GoSyntaxError(msg)
            if token.kind == OP and token.value in pairs:
                stack.append(pairs[token.value])
            elif token.kind == OP and token.value == stack[-1]:
                stack.pop()

    # -- types --------------------------------------------------------------------------------

    def parse_type(self) -> str:
        """Parse a type and return its canonical text (whitespace-free)."""
        token = self.tok
        if self.at("*"):
            self.advance()
            return "*" + self.parse_type()
        if self.at("["):
            self.advance()
            size = ""
            while not self.at("]"):
                size += self.advance().value
            self.advance()
            return f"[{size}]" + self.parse_type()
        if token.kind == IDENT and token.value == "map":
            self.advance()
            self.expect("[")
            key = self.parse_type()
            self.expect("]")
            return f"map[{key}]" + self.parse_type()
        if token.kind == IDENT and token.value in ("interface", "struct"):
            self.advance()
            start = self.pos
            self.skip_balanced()
            inner = "".join(t.value for t in self.tokens[start + 1 : self.pos - 1] if t.kind != SEMI)
            return f"{token.value}{{{inner}}}"
        if token.kind == IDENT and token.value == "func":
            self.advance()
            start = self.pos
            self.skip_balanced()
            text = "func" + "".join(t.value for t in self.tokens[start : self.pos])
            if not self.at("{") and not self.at(",") and not self.at(")") and self.tok.kind not in (SEMI, EOF):
                text += self.parse_result_type()
            return text
        if token.kind == IDENT:
            self.advance()
            name = token.value
            if self.at(".") and self.tokens[self.pos + 1].kind == IDENT:
                self.advance()
                name += "." + self.advance().value
            return name
        msg = f"line {token.line}: expected a type, found {token.value!r}"
        raise GoSyntaxError(msg)

    def parse_result_type(self) -> str:
        if self.at("("):
            start = self.pos
            self.skip_balanced()
            return "".join(t.value for t in self.tokens[start : self.pos])
        return self.parse_type()

    # -- expressions --------------------------------------------------------------------------

    def parse_expr(self, min_prec: int = 1) -> Node:
        left = self.parse_unary()
        while self.tok.kind == OP and _BINARY_PRECEDENCE.get(self.tok.value, 0) >= min_prec:
            op = self.advance()
            right = self.parse_expr(_BINARY_PRECEDENCE[op.value] + 1)
            left = Binary(op.line, op.value, left, right)
        return left

    def parse_unary(self) -> Node:
        if self.tok.kind == OP and self.tok.value in ("&", "-", "+", "!", "^", "*", "<-"):
            op = self.advance()
            return Unary(op.line, op.value, self.parse_unary())
        return self.parse_primary()

    def parse_operand(self) -> Node:
        token = self.tok
        if token.kind in (INT, FLOAT, STRING, CHAR):
            self.advance()
            return BasicLit(token.line, token.kind, token.value)
        if self.at("("):
            self.advance()
            inner = self.parse_expr()
            self.expect(")")
            return inner
        if self.at("{"):
            return self.parse_composite_body("", "")
        if token.kind == IDENT and token.value == "func":
            self.advance()
            self.skip_balanced()  # parameters
            while not self.at("{"):
                if self.at("("):
                    self.skip_balanced()
                else:
                    self.advance()
            self.skip_balanced()  # body
            return FuncLit(token.line)
        if self.at("[") or (token.kind == IDENT and token.value in ("map", "interface", "struct")):
            text = self.parse_type()
            return TypeExpr(token.line, text, _element_type(text))
        if token.kind == IDENT:
            self.advance()
            return Ident(token.line, token.value)
        msg = f"line {token.line}: unexpected {token.value!r} in expression"
        raise GoSyntaxError(msg)

    def parse_primary(self) -> Node:
        node = self.parse_operand()
        while True:
            if self.at("."):
                self.advance()
                if self.at("("):  # type assertion x.(T)
                    self.advance()
                    self.parse_type()
                    self.expect(")")
                    continue
                name = self.advance()
                node = Selector(name.line, node, name.value)
            elif self.at("("):
                line = self.advance().line
                args: list[Node] = []
                while not self.at(")"):
                    args.append(self.parse_expr())
                    if self.at("..."):
                        self.advance()
                    if not self.at(")"):
                        self.expect(",")
                self.advance()
                node = Call(line, node, tuple(args))
            elif self.at("["):
                line = self.advance().line
                index = self.parse_expr()
                if self.at(":"):
                    while not self.at("]"):
                        self.advance()
                self.expect("]")
                node = Index(line, node, index)
            elif self.at("{") and _is_type_like(node):
                text = node.text if isinstance(node, TypeExpr) else _type_text(node)
                node = self.parse_composite_body(text, _element_type(text))
            else:
                return node

    def parse_composite_body(self, type_text: str, elem_type: str) -> Composite:
        line = self.expect("{").line
        elements: list[Element] = []
        while not self.at("}"):
            first = self.parse_element_value(elem_type)
            if self.at(":"):
                self.advance()
                elements.append(Element(first, self.parse_element_value(elem_type)))
            else:
                elements.append(Element(None, first))
            if not self.at("}"):
                self.expect(",")
        self.advance()
        return Composite(line, type_text, elem_type, tuple(elements))

    def parse_element_value(self, elem_type: str) -> Node:
        if self.at("{"):
            inner = elem_type.lstrip("*")
            return self.parse_composite_body(inner, _element_type(inner))
        return self.parse_expr()


def _is_type_like(node: Node) -> bool:
    if isinstance(node, TypeExpr | Ident):
        return True
    return isinstance(node, Selector) and isinstance(node.operand, Ident)


def _type_text(node: Node) -> str:
    if isinstance(node, Ident):
        return node.name
    if isinstance(node, Selector) and isinstance(node.operand, Ident):
        return f"{node.operand.name}.{node.name}"
    msg = f"line {node.line}: not a type"
    raise GoSyntaxError(msg)


def _element_type(type_text: str) -> str:
    """The type of elided inner literals: a map's value type or a slice's element type."""
    if type_text.startswith("map["):
        depth = 0
        for i, ch in enumerate(type_text):
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    return type_text[i + 1 :]
    if type_text.startswith("["):
        return type_text[type_text.index("]") + 1 :]
    return ""


# ---------------------------------------------------------------------------------------------
# Top-level declarations
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FuncDecl:
    """A package-level function: parameter names, and the token range of its body."""

    name: str
    params: tuple[str, ...]
    body_start: int
    body_end: int


@dataclass
class GoFile:
    """A parsed Go file: tokens plus the index of its top-level functions and variables."""

    path: str
    tokens: list[Token]
    funcs: dict[str, FuncDecl] = field(default_factory=dict)
    var_values: dict[str, Node] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)

    def parser(self, pos: int) -> Parser:
        return Parser(self.tokens, pos)

    def local_values(self, func: FuncDecl) -> dict[str, Node]:
        """``name := expr`` statements at the top level of a function body."""
        return _top_level_assignments(self.tokens, func, ":=")

    def returned_expr(self, func: FuncDecl) -> Node:
        """The expression of the first top-level ``return`` in the function's body."""
        return self.parser(_first_return(self.tokens, func)).parse_expr()


def _first_return(tokens: list[Token], func: FuncDecl) -> int:
    depth = 0
    for i in range(func.body_start, func.body_end):
        token = tokens[i]
        if token.kind == OP and token.value in "({[":
            depth += 1
        elif token.kind == OP and token.value in ")}]":
            depth -= 1
        elif token.kind == IDENT and token.value == "return" and depth == 1:
            return i + 1
    msg = f"function {func.name} has no top-level return"
    raise GoSyntaxError(msg)


def _param_names(tokens: list[Token]) -> tuple[str, ...]:
    """Names of parameters from the tokens between the parentheses (types are dropped)."""
    names: list[str] = []
    depth = 0
    segment: list[Token] = []
    groups: list[list[Token]] = []
    for token in tokens:
        if token.kind == OP and token.value in "([{":
            depth += 1
        elif token.kind == OP and token.value in ")]}":
            depth -= 1
        if token.kind == OP and token.value == "," and depth == 0:
            groups.append(segment)
            segment = []
        else:
            segment.append(token)
    if segment:
        groups.append(segment)
    for group in groups:
        if group and group[0].kind == IDENT:
            names.append(group[0].value)
    # "a, b string": a group of one ident takes the type of the next group; the first ident is
    # still the name, which is all the evaluator needs.
    return tuple(names)


def parse_file(path: str, src: str) -> GoFile:
    """Tokenize a Go file and index its package-level functions and ``var``/init assignments."""
    tokens = tokenize(src)
    gofile = GoFile(path, tokens)
    p = Parser(tokens)
    depth = 0
    while p.tok.kind != EOF:
        token = p.tok
        if depth == 0 and token.kind == IDENT and token.value == "func":
            _index_func(gofile, p)
        elif depth == 0 and token.kind == IDENT and token.value in ("var", "const"):
            _index_var(gofile, p)
        elif depth == 0 and token.kind == IDENT and token.value == "type":
            p.advance()
            if p.tok.kind == IDENT:
                gofile.types.add(p.tok.value)
        elif token.kind == OP and token.value in "([{":
            depth += 1
            p.advance()
        elif token.kind == OP and token.value in ")]}":
            depth -= 1
            p.advance()
        else:
            p.advance()
    init = gofile.funcs.get("init")
    if init is not None:
        _index_init_assignments(gofile, init)
    return gofile


def _index_func(gofile: GoFile, p: Parser) -> None:
    p.advance()  # func
    if p.at("("):  # method receiver: not a package function
        p.skip_balanced()
        p.advance()
        name = ""
    else:
        name = p.advance().value
    if p.at("["):  # type parameters
        p.skip_balanced()
    start = p.pos
    p.skip_balanced()
    params = _param_names(p.tokens[start + 1 : p.pos - 1])
    while not p.at("{"):
        if p.tok.kind in (SEMI, EOF):  # declaration without body
            return
        if p.at("(") or p.at("["):
            p.skip_balanced()
        elif p.tok.kind == IDENT and p.tok.value in ("interface", "struct"):
            p.advance()
            p.skip_balanced()
        else:
            p.advance()
    body_start = p.pos
    p.skip_balanced()
    if name:
        gofile.funcs[name] = FuncDecl(name, params, body_start, p.pos)


def _index_var(gofile: GoFile, p: Parser) -> None:
    p.advance()  # var or const
    if p.at("("):
        p.advance()
        while not p.at(")"):
            if p.tok.kind == SEMI:
                p.advance()
                continue
            _index_var_spec(gofile, p)
        p.advance()
    else:
        _index_var_spec(gofile, p)


def _index_var_spec(gofile: GoFile, p: Parser) -> None:
    name = p.advance().value
    if not p.at("="):
        p.parse_type()
    if p.at("="):
        p.advance()
        gofile.var_values[name] = p.parse_expr()
    while p.tok.kind not in (SEMI, EOF) and not p.at(")"):
        p.advance()


def _index_init_assignments(gofile: GoFile, init: FuncDecl) -> None:
    """Record ``name = expr`` statements at the top level of ``func init()``."""
    gofile.var_values.update(_top_level_assignments(gofile.tokens, init, "="))


def _top_level_assignments(tokens: list[Token], func: FuncDecl, operator: str) -> dict[str, Node]:
    found: dict[str, Node] = {}
    depth = 0
    i = func.body_start
    while i < func.body_end:
        token = tokens[i]
        if token.kind == OP and token.value in "([{":
            depth += 1
        elif token.kind == OP and token.value in ")]}":
            depth -= 1
        elif (
            depth == 1
            and token.kind == IDENT
            and tokens[i + 1].kind == OP
            and tokens[i + 1].value == operator
            and tokens[i - 1].value in (";", "{")
        ):
            p = Parser(tokens, i + 2)
            found[token.value] = p.parse_expr()
            i = p.pos
            continue
        i += 1
    return found
