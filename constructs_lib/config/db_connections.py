"""The PostgreSQL connection budget: how many connections the gateway's Prisma pools may open, against the server's
`max_connections`.

    budget = ConnectionBudget(max_connections=400, reserved=15, clients=[PoolClient("gateway", 20, 2), ...],
                              replica=True)
    budget.pool_size(None)   # the largest per-engine pool that fits (at most LiteLLM's default, 10)
    budget.problem(8)        # None, or why 8 does not fit (the caller names the config field)

Prisma's `connection_limit` is per query engine, and every worker process owns one engine per database it uses (the
writer, plus the reader when DATABASE_URL_READ_REPLICA is set): LiteLLM's own statement of it,
litellm/proxy/db/db_url_settings.py:257-288 (`postgres_connection_budget_message`), and its reader inheriting the
writer's pool parameters, db_url_settings.py:654-662. A read replica is a separate server with the same flags, so the
writer and the reader each hold their own share: instances x processes x connection_limit, plus the connections kept
for the rest (PostgreSQL's superuser_reserved_connections, the migrations job, operator sessions).

The componentized entrypoints (gateway.main, backend.main) bypass LiteLLM's CLI, which is the only reader of
`general_settings.database_connection_pool_limit` (litellm/proxy/proxy_cli.py:1287-1294, 1367-1397); they take the
URL's own `connection_limit` / `pool_timeout` (kept by DatabaseURLSettings.apply_to_env when the URL is set,
db_url_settings.py:481-483). Without them Prisma sizes each pool from the host's CPUs (db_url_settings.py:654-656).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# LiteLLM's default pool per engine and pool wait (LiteLLMDatabaseConnectionPool, litellm/proxy/proxy_cli.py:61-63).
LITELLM_DEFAULT_CONNECTION_LIMIT = 10
LITELLM_DEFAULT_POOL_TIMEOUT_SECONDS = 60
# `max_connections` when the config sets none. Elsewhere than production, PostgreSQL's own default ("typically 100",
# https://www.postgresql.org/docs/16/runtime-config-connection.html); production runs more instances.
DEFAULT_MAX_CONNECTIONS = {False: 100, True: 400}


def default_max_connections(production: bool) -> int:
    return DEFAULT_MAX_CONNECTIONS[production]


@dataclass(frozen=True)
class PoolClient:
    """One kind of workload with a Prisma engine per worker process: at most `instances` x `processes` engines."""

    name: str
    instances: int
    processes: int
    reads_replica: bool = True

    @property
    def engines(self) -> int:
        return self.instances * self.processes


@dataclass(frozen=True)
class ConnectionBudget:
    max_connections: int
    reserved: int
    clients: Sequence[PoolClient]
    replica: bool
    # What one "engine" is and what caps it: Prisma engines and their `connection_limit` (the default), or AWS's
    # in-task PgBouncers and their `max_db_connections`.
    ceiling: int = LITELLM_DEFAULT_CONNECTION_LIMIT
    engine_name: str = "Prisma engines"
    limit_name: str = "connection_limit"

    def _engines_per_server(self) -> int:
        """Engines on the busiest server: every client's writer engine, or every replica-reading client's reader."""
        writer = sum(client.engines for client in self.clients)
        reader = sum(client.engines for client in self.clients if client.reads_replica) if self.replica else 0
        return max(writer, reader)

    def pool_size(self, configured: int | None) -> int:
        """`configured`, or the largest pool up to `ceiling` (LiteLLM's default) that fits (0: none fits)."""
        if configured is not None:
            return configured
        engines = self._engines_per_server()
        room = self.max_connections - self.reserved
        return min(self.ceiling, room // engines) if engines and room > 0 else 0

    def demand(self, connection_limit: int) -> int:
        return self._engines_per_server() * connection_limit + self.reserved

    def problem(self, connection_limit: int) -> str | None:
        """Why `connection_limit` (0: the computed size, when none fits) does not fit under max_connections, with
        the arithmetic; None when it does."""
        if connection_limit >= 1 and self.demand(connection_limit) <= self.max_connections:
            return None
        engines = self._engines_per_server()
        terms = " + ".join(f"{client.name} {client.instances} x {client.processes}" for client in self.clients)
        where = "on each of writer and replica" if self.replica else "on the instance"
        if connection_limit < 1:
            return (
                f"no pool fits: ({terms}) = {engines} {self.engine_name} {where}, at one connection each plus "
                f"reserved_connections {self.reserved} = {engines + self.reserved}, above max_connections "
                f"{self.max_connections}; lower the instances or workers, or raise max_connections"
            )
        return (
            f"{connection_limit}: ({terms}) = {engines} {self.engine_name} {where} x {self.limit_name} "
            f"{connection_limit} "
            f"+ reserved_connections {self.reserved} = {self.demand(connection_limit)} connections, above "
            f"max_connections {self.max_connections}; lower {self.limit_name} or the instances or workers, or raise "
            "max_connections"
        )
