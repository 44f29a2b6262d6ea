"""Serve the pinned LiteLLM proxy app on the loopback, its database behind the in-memory Prisma stand-in.

Runs in .venv-litellm (tools/litellm_check/requirements.txt):

    python -m tools.litellm_live.proxy_app --config proxy.yaml --port 0 --ready-file ready.json

It does what the proxy's lifespan (`proxy_startup_event`, litellm/proxy/proxy_server.py:1370) does for the paths
the tests drive, and nothing else: load the config (proxy_server.py:1437), put a `PrismaClient` in place
(proxy_server.py:1490, here built around `InMemoryPrisma`), and start the proxy logging hooks with the Redis usage
cache (proxy_server.py:1561, `initialize_startup_logging`). uvicorn runs the app with `lifespan="off"` (shared
FACTS.md). The master key and Redis come from the environment the fixture sets (LITELLM_MASTER_KEY, REDIS_*),
exactly as the shipped config references them. When ready it writes {"port": N} to --ready-file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from pathlib import Path

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # the bundled cost map: no network fetch at import
os.environ.setdefault("LITELLM_LOG", "ERROR")

from tools.litellm_live.prisma_standin import InMemoryPrisma
from tools.litellm_live.raw_sql import raw_handlers


def build_prisma_client(proxy_logging_obj):
    """The real `PrismaClient` (litellm/proxy/utils.py:4856) around the stand-in: its constructor imports the
    generated `prisma.Prisma` (utils.py:4890), which needs Prisma's engines, so the instance is built the way the
    constructor would build it, with `InMemoryPrisma` where the generated client goes (utils.py:4912)."""
    import litellm
    from litellm.proxy.db.prisma_client import PrismaWrapper
    from litellm.proxy.utils import PrismaClient

    schema = Path(litellm.__file__).parent / "proxy" / "schema.prisma"
    standin = InMemoryPrisma(schema, raw_handlers())
    prisma_types = type(sys)("prisma.types")
    prisma_types.DatasourceOverride = dict
    import prisma

    saved = prisma.__dict__.get("Prisma"), sys.modules.get("prisma.types")
    prisma.Prisma = lambda **_: standin
    sys.modules["prisma.types"] = prisma_types
    try:
        client = PrismaClient(database_url=os.environ["DATABASE_URL"], proxy_logging_obj=proxy_logging_obj)
    finally:
        if saved[0] is None:
            del prisma.Prisma
        else:
            prisma.Prisma = saved[0]
        if saved[1] is None:
            del sys.modules["prisma.types"]
        else:
            sys.modules["prisma.types"] = saved[1]
    assert isinstance(client.db, PrismaWrapper)
    return client, standin


async def serve(config_path: str, port: int, ready_file: Path) -> None:
    import uvicorn
    from litellm.proxy import proxy_server
    from litellm.proxy.proxy_server import ProxyStartupEvent

    router, model_list, general_settings = await proxy_server.proxy_config.load_config(
        router=proxy_server.llm_router, config_file_path=config_path
    )
    proxy_server.llm_router, proxy_server.llm_model_list = router, model_list
    proxy_server.general_settings = general_settings
    proxy_server.master_key = os.environ["LITELLM_MASTER_KEY"]
    client, _ = build_prisma_client(proxy_server.proxy_logging_obj)
    proxy_server.prisma_client = client
    ProxyStartupEvent.initialize_startup_logging(
        llm_router=router,
        proxy_logging_obj=proxy_server.proxy_logging_obj,
        redis_usage_cache=proxy_server.redis_usage_cache,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(proxy_server.app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.05)
        temporary = ready_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({"port": sock.getsockname()[1], "pid": os.getpid()}))
        temporary.replace(ready_file)

    announcer = asyncio.create_task(announce())
    await server.serve(sockets=[sock])
    announcer.cancel()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.config, args.port, args.ready_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
