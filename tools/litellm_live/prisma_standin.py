"""An in-memory stand-in for the generated Prisma client LiteLLM's `PrismaClient` wraps (runs in .venv-litellm).

The seam is the narrowest LiteLLM itself names: `litellm/repositories/prisma_protocols.py` (`TableActions`, the
prisma-client-py per-model action surface) plus the raw SQL statements the key, team, auth and rate-limit paths
send (`query_raw` / `query_first` / `execute_raw`). Everything above it is LiteLLM's own code: the real
`PrismaClient` (litellm/proxy/utils.py:4856) is built around this object, so its `get_data` / `insert_data` /
`update_data` / `delete_data` run unchanged. Prisma's engines cannot be downloaded here (shared FACTS.md).

Tables, columns, defaults and relations are read from LiteLLM's own schema (`litellm/proxy/schema.prisma`), so a
row has every column Prisma would return. Json columns take LiteLLM's `json.dumps` strings as Prisma does (a str
for a Json field is serialized JSON) and come back parsed. A raw statement this module does not know raises
`UnsupportedQuery` naming it: a path that needs more surfaces as a failing test, never as a made-up answer.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict


class UnsupportedQuery(NotImplementedError):
    pass


_FIELD = re.compile(r"^\s*(\w+)\s+(\w+)(\[\])?(\?)?(.*)$")
_RELATION = re.compile(r"@relation\([^)]*fields:\s*\[(\w+)\][^)]*references:\s*\[(\w+)\]")
_DEFAULT = re.compile(r"@default\((.*?)\)(?:\s|$)")
_SCALARS = {"String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime", "Json", "Bytes"}


class Column:
    def __init__(self, name: str, kind: str, is_list: bool, optional: bool, default: str | None, is_id: bool):
        self.name, self.kind, self.is_list, self.optional, self.default, self.is_id = (
            name,
            kind,
            is_list,
            optional,
            default,
            is_id,
        )

    def default_value(self) -> Any:
        if self.default is None:
            return [] if self.is_list else None
        if self.default in ("now()",):
            return datetime.now(UTC)
        if self.default in ("uuid()", "cuid()"):
            return str(uuid.uuid4())
        if self.default == "autoincrement()":
            return None  # filled by the table
        if self.kind == "Json":
            return json.loads(json.loads(self.default))  # @default("{}") -> "{}" -> {}
        if self.is_list:
            return json.loads(self.default)
        if self.kind == "Boolean":
            return self.default == "true"
        if self.kind in ("Int", "BigInt"):
            return int(self.default)
        if self.kind in ("Float", "Decimal"):
            return float(self.default)
        return json.loads(self.default) if self.default.startswith('"') else self.default


class Model:
    def __init__(self, name: str):
        self.name = name
        self.columns: dict[str, Column] = {}
        # relation field -> (related model, local column, referenced column)
        self.relations: dict[str, tuple[str, str, str]] = {}
        self.id_column: str | None = None


def parse_schema(text: str) -> dict[str, Model]:
    """model blocks of a schema.prisma: scalar columns (type, list, optional, default) and to-one relations."""
    models: dict[str, Model] = {}
    current: Model | None = None
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].rstrip()
        if line.startswith("model "):
            current = models.setdefault(line.split()[1], Model(line.split()[1]))
            continue
        if current is None:
            continue
        if line.startswith("}"):
            current = None
            continue
        match = _FIELD.match(line)
        if not match or match.group(1).startswith("@@"):
            continue
        name, kind, is_list, optional, rest = match.groups()
        if kind in _SCALARS:
            default = _DEFAULT.search(rest + " ")
            is_id = "@id" in rest
            current.columns[name] = Column(
                name, kind, bool(is_list), bool(optional), default.group(1) if default else None, is_id
            )
            if is_id:
                current.id_column = name
        elif relation := _RELATION.search(rest):
            current.relations[name] = (kind, relation.group(1), relation.group(2))
    return models


class Row(BaseModel):
    """A returned record: attribute access, `model_dump()` and `dict()` like prisma-client-py's pydantic models."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)


def _to_datetime(value: Any) -> Any:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _coerce(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "Json":
        if isinstance(value, str):  # prisma-client-py: a str for a Json field is serialized JSON
            return json.loads(value)
        inner = getattr(value, "data", value)  # prisma.Json wrapper
        return copy.deepcopy(inner)
    if column.kind == "DateTime":
        return _to_datetime(value)
    if column.kind in ("Int", "BigInt") and not column.is_list and isinstance(value, float):
        return int(value)
    if column.is_list:
        return list(value)
    return value


def _compare(value: Any, op: str, operand: Any) -> bool:
    if op == "equals":
        return value == operand
    if op == "not":
        return not _matches_field(value, operand) if isinstance(operand, Mapping) else value != operand
    if op == "in":
        return value in operand
    if op == "notIn":
        return value not in operand
    if op == "has":
        return value is not None and operand in value
    if op == "hasSome":
        return value is not None and any(item in value for item in operand)
    if op == "hasEvery":
        return value is not None and all(item in value for item in operand)
    if op == "isEmpty":
        return (not value) == operand
    if op in ("contains", "startsWith", "endsWith"):
        return value is not None and getattr(str(value), {"contains": "__contains__"}.get(op, op.lower()))(operand)
    if value is None:
        return False
    left, right = (_to_datetime(value), _to_datetime(operand)) if isinstance(value, datetime) else (value, operand)
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def _matches_field(value: Any, condition: Any) -> bool:
    if not isinstance(condition, Mapping):
        return value == condition
    insensitive = condition.get("mode") == "insensitive"
    for op, operand in condition.items():
        if op == "mode":
            continue
        left, right = value, operand
        if insensitive and isinstance(value, str):
            left, right = value.lower(), operand.lower() if isinstance(operand, str) else operand
        if op in ("contains", "startsWith", "endsWith") and left is not None:
            text = str(left)
            if not {"contains": right in text, "startsWith": text.startswith(right), "endsWith": text.endswith(right)}[
                op
            ]:
                return False
            continue
        if not _compare(left, op, right):
            return False
    return True


class Table:
    """One model's `TableActions` (litellm/repositories/prisma_protocols.py:20) over a list of dict rows."""

    def __init__(self, database: InMemoryPrisma, model: Model):
        self._db, self._model = database, model
        self.rows: list[dict[str, Any]] = []
        self._sequence = 0

    # -- filters and shapes ------------------------------------------------------------------------------
    def _where(self, row: Mapping[str, Any], where: Mapping[str, Any] | None) -> bool:
        for key, condition in (where or {}).items():
            if key == "AND":
                parts = condition if isinstance(condition, list) else [condition]
                if not all(self._where(row, part) for part in parts):
                    return False
            elif key == "OR":
                if not any(self._where(row, part) for part in condition):
                    return False
            elif key == "NOT":
                parts = condition if isinstance(condition, list) else [condition]
                if any(self._where(row, part) for part in parts):
                    return False
            elif key in self._model.relations:
                related = self._related(row, key)
                if condition is None:
                    if related is not None:
                        return False
                elif related is None or not self._db.table_of(self._model.relations[key][0])._where(
                    related, condition.get("is", condition)
                ):
                    return False
            elif key in self._model.columns:
                if not _matches_field(row.get(key), condition):
                    return False
            elif isinstance(condition, Mapping) and all(k in self._model.columns for k in condition):
                # a compound unique (`a_b: {a: .., b: ..}`)
                if not self._where(row, condition):
                    return False
            else:
                raise UnsupportedQuery(f"{self._model.name}: unknown where field {key!r}")
        return True

    def _related(self, row: Mapping[str, Any], relation: str) -> dict[str, Any] | None:
        target, local, remote = self._model.relations[relation]
        if row.get(local) is None:
            return None
        table = self._db.table_of(target)
        return next((other for other in table.rows if other.get(remote) == row[local]), None)

    def _shape(self, row: Mapping[str, Any] | None, include: Mapping[str, Any] | None) -> Row | None:
        if row is None:
            return None
        data = copy.deepcopy(dict(row))
        for relation, wanted in (include or {}).items():
            if not wanted:
                continue
            if relation in self._model.relations:
                related = self._related(row, relation)
                target = self._db.table_of(self._model.relations[relation][0])
                data[relation] = target._shape(related, None)
            else:
                data[relation] = None  # to-many relations this stand-in does not keep: Prisma returns [] or None
        return Row(**data)

    def _order(self, rows: list[dict[str, Any]], order: Any) -> list[dict[str, Any]]:
        for part in reversed(order if isinstance(order, list) else [order] if order else []):
            for column, direction in reversed(list(part.items())):
                rows.sort(
                    key=lambda row, c=column: (row.get(c) is None, row.get(c) if row.get(c) is not None else 0),
                    reverse=direction == "desc",
                )
        return rows

    def _writable(self, data: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key in self._model.columns:
                column = self._model.columns[key]
                if isinstance(value, Mapping) and column.kind != "Json" and set(value) & {"set", "increment", "push"}:
                    values[key] = value  # an update operation, applied in _apply
                else:
                    values[key] = _coerce(column, value)
            elif key in self._model.relations:
                target, local, remote = self._model.relations[key]
                if isinstance(value, Mapping) and "connect" in value:
                    values[local] = value["connect"][remote]
                elif isinstance(value, Mapping) and "create" in value:
                    created = self._db.table_of(target).create_row(value["create"])
                    values[local] = created[remote]
                elif isinstance(value, Mapping) and "disconnect" in value:
                    values[local] = None
                else:
                    raise UnsupportedQuery(f"{self._model.name}: nested write {key}={value!r}")
            else:
                raise UnsupportedQuery(f"{self._model.name}: unknown column {key!r}")
        return values

    def _apply(self, row: dict[str, Any], values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            if isinstance(value, Mapping) and self._model.columns[key].kind != "Json":
                if "set" in value:
                    row[key] = _coerce(self._model.columns[key], value["set"])
                elif "increment" in value:
                    row[key] = (row.get(key) or 0) + value["increment"]
                elif "push" in value:
                    pushed = value["push"] if isinstance(value["push"], list) else [value["push"]]
                    row[key] = list(row.get(key) or []) + pushed
            else:
                row[key] = value
        if "updated_at" in self._model.columns:
            row["updated_at"] = datetime.now(UTC)

    def create_row(self, data: Mapping[str, Any]) -> dict[str, Any]:
        row = {name: column.default_value() for name, column in self._model.columns.items()}
        for name, column in self._model.columns.items():
            if column.default == "autoincrement()":
                self._sequence += 1
                row[name] = self._sequence
        self._apply(row, self._writable(data))
        if self._model.id_column and any(
            other[self._model.id_column] == row[self._model.id_column] for other in self.rows
        ):
            raise self._db.unique_violation(self._model.name, self._model.id_column)
        self.rows.append(row)
        return row

    # -- TableActions -------------------------------------------------------------------------------------
    async def find_unique(self, where, include=None):
        return self._shape(next((r for r in self.rows if self._where(r, where)), None), include)

    async def find_unique_or_raise(self, where, include=None):
        found = await self.find_unique(where, include)
        if found is None:
            raise self._db.record_not_found(self._model.name)
        return found

    async def find_first(self, skip=None, where=None, cursor=None, include=None, order=None, distinct=None, **_):
        rows = await self.find_many(take=1, skip=skip, where=where, include=include, order=order)
        return rows[0] if rows else None

    async def find_first_or_raise(self, **kwargs):
        found = await self.find_first(**kwargs)
        if found is None:
            raise self._db.record_not_found(self._model.name)
        return found

    async def find_many(self, take=None, skip=None, where=None, cursor=None, include=None, order=None, distinct=None):
        rows = self._order([r for r in self.rows if self._where(r, where)], order)
        rows = rows[skip or 0 :]
        if take is not None:
            rows = rows[:take]
        return [self._shape(r, include) for r in rows]

    async def create(self, data, include=None):
        return self._shape(self.create_row(data), include)

    async def create_many(self, data, *, skip_duplicates=None):
        count = 0
        for item in data:
            try:
                self.create_row(item)
                count += 1
            except Exception:
                if not skip_duplicates:
                    raise
        return count

    async def upsert(self, where, data, include=None):
        existing = next((r for r in self.rows if self._where(r, where)), None)
        if existing is None:
            return self._shape(self.create_row(data["create"]), include)
        self._apply(existing, self._writable(data["update"]))
        return self._shape(existing, include)

    async def update(self, data, where, include=None):
        existing = next((r for r in self.rows if self._where(r, where)), None)
        if existing is None:
            # prisma-client-py's `update` returns None when the record does not exist
            return None
        self._apply(existing, self._writable(data))
        return self._shape(existing, include)

    async def update_many(self, data, where):
        matched = [r for r in self.rows if self._where(r, where)]
        values = self._writable(data)
        for row in matched:
            self._apply(row, values)
        return len(matched)

    async def delete(self, where, include=None):
        existing = next((r for r in self.rows if self._where(r, where)), None)
        if existing is None:
            return None
        self.rows.remove(existing)
        return self._shape(existing, include)

    async def delete_many(self, where=None):
        matched = [r for r in self.rows if self._where(r, where)]
        for row in matched:
            self.rows.remove(row)
        return len(matched)

    async def count(self, select=None, take=None, skip=None, where=None, cursor=None):
        return len([r for r in self.rows if self._where(r, where)][skip or 0 :][:take])

    async def group_by(self, by, *, where=None, **_):
        groups: dict[tuple, dict[str, Any]] = {}
        for row in self.rows:
            if self._where(row, where):
                key = tuple(row.get(column) for column in by)
                groups.setdefault(key, {column: row.get(column) for column in by})
        return list(groups.values())


class _Batch:
    """`db.batch_()`: the writes are queued and run on `commit()` (prisma-client-py's batch API)."""

    def __init__(self, database: InMemoryPrisma):
        self._db, self._queued = database, []

    def __getattr__(self, table: str):
        actions = self._db.__getattr__(table)

        class _Queued:
            def __getattr__(_, action: str):
                return lambda **kwargs: self._queued.append((getattr(actions, action), kwargs))

        return _Queued()

    async def commit(self) -> None:
        queued, self._queued = self._queued, []
        for action, kwargs in queued:
            await action(**kwargs)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        if exc[0] is None:
            await self.commit()
        return False


class _Transaction:
    """`db.tx()`: one asyncio lock serializes transactions; there is no rollback (no test depends on one)."""

    def __init__(self, database: InMemoryPrisma):
        self._db = database

    async def __aenter__(self):
        await self._db.tx_lock.acquire()
        return self._db

    async def __aexit__(self, *exc):
        self._db.tx_lock.release()
        return False


RawHandler = Callable[["InMemoryPrisma", tuple], Any]
# A statement LiteLLM sends: its exact text (whitespace-normalized) or a predicate over the normalized text.
RawStatement = str | Callable[[str], bool]


class InMemoryPrisma:
    """The generated `prisma.Prisma` client's surface LiteLLM's `PrismaWrapper` forwards to."""

    def __init__(self, schema_path: Path, raw_handlers: Sequence[tuple[RawStatement, RawHandler]] = ()):
        self.models = parse_schema(schema_path.read_text())
        self._tables: dict[str, Table] = {}
        self._raw = list(raw_handlers)
        self.tx_lock = asyncio.Lock()
        self.unsupported: list[str] = []

    def table_of(self, model_name: str) -> Table:
        lowered = model_name.lower()
        if lowered not in self._tables:
            self._tables[lowered] = Table(self, self.models[model_name])
        return self._tables[lowered]

    def __getattr__(self, name: str):
        by_lower = {model.lower(): model for model in self.__dict__.get("models", {})}
        if name in by_lower:
            return self.table_of(by_lower[name])
        raise AttributeError(f"InMemoryPrisma has no {name!r}")

    # -- client lifecycle (no engine) --------------------------------------------------------------------
    async def connect(self, *_, **__):
        return None

    async def disconnect(self, *_, **__):
        return None

    def is_connected(self) -> bool:
        return True

    def tx(self, *_, **__):
        return _Transaction(self)

    def batch_(self):
        return _Batch(self)

    # -- raw SQL -----------------------------------------------------------------------------------------
    def _handler(self, query: str) -> RawHandler:
        normalized = " ".join(query.split())
        for statement, handler in self._raw:
            if statement(normalized) if callable(statement) else " ".join(statement.split()) == normalized:
                return handler
        self.unsupported.append(normalized[:300])
        raise UnsupportedQuery(f"raw SQL not served by the in-memory Prisma stand-in: {normalized[:300]}")

    async def query_raw(self, query: str, *args: Any, **_: Any) -> list[dict[str, Any]]:
        result = self._handler(query)(self, args)
        return result if isinstance(result, list) else [] if result is None else [result]

    async def query_first(self, query: str, *args: Any, **_: Any) -> dict[str, Any] | None:
        result = self._handler(query)(self, args)
        return result[0] if isinstance(result, list) and result else None if isinstance(result, list) else result

    async def execute_raw(self, query: str, *args: Any, **_: Any) -> int:
        result = self._handler(query)(self, args)
        return int(result or 0)

    # -- errors as prisma-client-py raises them ----------------------------------------------------------
    @staticmethod
    def unique_violation(model: str, column: str) -> Exception:
        from prisma.errors import UniqueViolationError

        return UniqueViolationError(
            {"user_facing_error": {"message": f"Unique constraint failed on the fields: (`{column}`)", "meta": {}}}
        )

    @staticmethod
    def record_not_found(model: str) -> Exception:
        from prisma.errors import RecordNotFoundError

        return RecordNotFoundError({"user_facing_error": {"message": f"{model}: record not found", "meta": {}}})
