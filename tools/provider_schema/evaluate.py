"""Lazy evaluation of Go schema expressions across a provider package.

A resource function returns ``&schema.Resource{...}`` whose fields call helpers (``tagsSchema()``),
read package variables (``descriptions["region"]``) or name SDK constants (``schema.TypeString``).
Fields are evaluated only when the schema converter asks for them, so validators, diff suppressors
and CRUD functions (which this reader cannot and need not understand) are never touched. Every file
an evaluation reads is recorded, which is what the provenance file lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from tools.provider_schema import golang

if TYPE_CHECKING:
    from collections.abc import Callable


_CONVERSIONS = {"int": int, "int64": int, "int32": int, "float64": float, "float32": float}


class EvalError(ValueError):
    """A schema field depends on Go this evaluator cannot resolve; the message names where."""


class Source(Protocol):
    """Where package files come from (a git tag in production, a dict in unit tests)."""

    def file_declaring(self, name: str) -> str | None:
        """Path of the non-test file that declares package-level ``name``, or None."""

    def read(self, path: str) -> str:
        """Text of a package file."""


@dataclass(frozen=True)
class Qualified:
    """A name from another package, e.g. ``schema.TypeString`` or ``time.Minute``."""

    name: str


@dataclass(frozen=True)
class ExternalCall:
    """A call into another package (``schema.EnvDefaultFunc(...)``); arguments stay lazy."""

    name: str
    args: tuple[Thunk, ...]


@dataclass(frozen=True)
class Opaque:
    """A value this evaluator does not model (function literals, arithmetic on unknowns)."""

    what: str


@dataclass
class Struct:
    """A struct literal such as ``schema.Schema{...}``; fields are evaluated on access."""

    type_name: str
    fields: dict[str, Thunk]

    def has(self, name: str) -> bool:
        return name in self.fields

    def get(self, name: str, default: object = None) -> object:
        thunk = self.fields.get(name)
        return default if thunk is None else thunk.value()


@dataclass
class Thunk:
    """An unevaluated expression bound to its file and local names."""

    node: golang.Node
    path: str
    env: dict[str, Thunk]
    evaluator: Evaluator
    _cache: list[object] = field(default_factory=list)

    def value(self) -> object:
        if not self._cache:
            self._cache.append(self.evaluator.eval(self.node, self.path, self.env))
        return self._cache[0]


class Evaluator:
    """Resolves identifiers and calls against one Go package, recording every file it reads."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self._files: dict[str, golang.GoFile] = {}
        self.touched: set[str] = set()

    def file(self, path: str) -> golang.GoFile:
        if path not in self._files:
            self._files[path] = golang.parse_file(path, self._source.read(path))
        self.touched.add(path)
        return self._files[path]

    def call_function(self, name: str, args: tuple[Thunk, ...] = ()) -> object:
        """Evaluate package function ``name`` with lazily bound arguments."""
        path = self._source.file_declaring(name)
        if path is None:
            msg = f"function {name} is not declared in the package"
            raise EvalError(msg)
        gofile = self.file(path)
        decl = gofile.funcs.get(name)
        if decl is None and name in gofile.types and len(args) == 1:
            return args[0].value()  # a conversion to a named type, e.g. MaxItems(10)
        if decl is None:
            msg = f"{path}: {name} is not a function"
            raise EvalError(msg)
        env = dict(zip(decl.params, args, strict=False))
        for local, node in gofile.local_values(decl).items():
            env.setdefault(local, Thunk(node, path, env, self))
        return self.eval(gofile.returned_expr(decl), path, env)

    def package_var(self, name: str) -> object:
        path = self._source.file_declaring(name)
        if path is None:
            msg = f"identifier {name} is not declared in the package"
            raise EvalError(msg)
        gofile = self.file(path)
        if name in gofile.var_values:
            return self.eval(gofile.var_values[name], path, {})
        if name in gofile.funcs:
            return Opaque(f"function value {name}")
        msg = f"{path}: cannot find the value of {name}"
        raise EvalError(msg)

    # -- expression evaluation -----------------------------------------------------------------

    def eval(self, node: golang.Node, path: str, env: dict[str, Thunk]) -> object:
        self.touched.add(path)
        handler: Callable[[golang.Node, str, dict[str, Thunk]], object] | None = getattr(
            self, f"_eval_{type(node).__name__}", None
        )
        if handler is None:
            msg = f"{path}:{node.line}: cannot evaluate {type(node).__name__}"
            raise EvalError(msg)
        return handler(node, path, env)

    def _eval_BasicLit(self, node: golang.BasicLit, _path: str, _env: dict[str, Thunk]) -> object:
        if node.kind == golang.STRING:
            return node.value
        if node.kind == golang.INT:
            return int(node.value.replace("_", ""), 0)
        if node.kind == golang.FLOAT:
            return float(node.value.replace("_", ""))
        return node.value

    def _eval_Ident(self, node: golang.Ident, path: str, env: dict[str, Thunk]) -> object:
        if node.name in env:
            return env[node.name].value()
        builtin = {"true": True, "false": False, "nil": None}
        if node.name in builtin:
            return builtin[node.name]
        try:
            return self.package_var(node.name)
        except EvalError as exc:
            msg = f"{path}:{node.line}: {exc}"
            raise EvalError(msg) from exc

    def _eval_Selector(self, node: golang.Selector, path: str, env: dict[str, Thunk]) -> object:
        if isinstance(node.operand, golang.Ident) and node.operand.name not in env:
            return Qualified(f"{node.operand.name}.{node.name}")
        base = self.eval(node.operand, path, env)
        if isinstance(base, Struct):
            return base.get(node.name)
        return Opaque(f"field {node.name}")

    def _eval_Unary(self, node: golang.Unary, path: str, env: dict[str, Thunk]) -> object:
        value = self.eval(node.operand, path, env)
        if node.op in ("&", "*", "+"):
            return value
        if node.op == "-" and isinstance(value, int | float):
            return -value
        if node.op == "!" and isinstance(value, bool):
            return not value
        return Opaque(f"unary {node.op}")

    def _eval_Binary(self, node: golang.Binary, path: str, env: dict[str, Thunk]) -> object:
        left = self.eval(node.left, path, env)
        right = self.eval(node.right, path, env)
        if node.op == "+" and isinstance(left, str) and isinstance(right, str):
            return left + right
        both_numbers = isinstance(left, int | float) and isinstance(right, int | float)
        if both_numbers and node.op in ("+", "-", "*"):
            ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
            return ops[node.op](left, right)
        return Opaque(f"binary {node.op}")

    def _eval_Index(self, node: golang.Index, path: str, env: dict[str, Thunk]) -> object:
        base = self.eval(node.operand, path, env)
        key = self.eval(node.index, path, env)
        if isinstance(base, dict) and isinstance(key, str):
            found = base.get(key)
            # A missing key in a Go map reads as the zero value; descriptions maps rely on it.
            return "" if found is None else found.value()
        if isinstance(base, list) and isinstance(key, int):
            return base[key].value()
        return Opaque("index")

    def _eval_FuncLit(self, _node: golang.FuncLit, _path: str, _env: dict[str, Thunk]) -> object:
        return Opaque("function literal")

    def _eval_TypeExpr(self, node: golang.TypeExpr, _path: str, _env: dict[str, Thunk]) -> object:
        return Opaque(f"type {node.text}")

    def _eval_Call(self, node: golang.Call, path: str, env: dict[str, Thunk]) -> object:
        args = tuple(Thunk(arg, path, env, self) for arg in node.args)
        func = node.func
        if isinstance(func, golang.Ident) and func.name not in env:
            if func.name in _CONVERSIONS and len(args) == 1:
                converted = args[0].value()
                convert = _CONVERSIONS[func.name]
                return convert(converted) if isinstance(converted, int | float) else Opaque(func.name)
            if func.name in ("len", "make", "new", "append", "string", "bool"):
                return Opaque(f"builtin {func.name}")
            try:
                return self.call_function(func.name, args)
            except EvalError as exc:
                msg = f"{path}:{node.line}: {exc}"
                raise EvalError(msg) from exc
        if isinstance(func, golang.Selector) and isinstance(func.operand, golang.Ident):
            return ExternalCall(f"{func.operand.name}.{func.name}", args)
        return Opaque("call")

    def _eval_Composite(self, node: golang.Composite, path: str, env: dict[str, Thunk]) -> object:
        type_text = node.type_text.lstrip("*")
        if type_text.startswith("map["):
            result: dict[str, Thunk] = {}
            for element in node.elements:
                if element.key is None:
                    msg = f"{path}:{node.line}: map element without key"
                    raise EvalError(msg)
                key = self.eval(element.key, path, env)
                if not isinstance(key, str):
                    msg = f"{path}:{node.line}: non-string map key"
                    raise EvalError(msg)
                result[key] = Thunk(element.value, path, env, self)
            return result
        if type_text.startswith("["):
            return [Thunk(element.value, path, env, self) for element in node.elements]
        fields: dict[str, Thunk] = {}
        for element in node.elements:
            if not isinstance(element.key, golang.Ident):
                msg = f"{path}:{node.line}: positional fields in a {type_text or 'struct'} literal"
                raise EvalError(msg)
            fields[element.key.name] = Thunk(element.value, path, env, self)
        return Struct(type_text, fields)
