"""The one routing table of the gateway, shared by every cloud's load balancer.

Facts from LiteLLM's gateway allowlist (`gateway/routes/allowlist.py` in BerriAI/litellm) and the public
LiteLLM Terraform modules: the gateway component serves the LLM data plane; the UI serves its assets; anything
else is the management API (the backend), which is every load balancer's default route. Versioned paths are
listed one by one because a blanket `/v1/*` would also catch management routes such as `/v1/access_group`.

Patterns are in ALB syntax: `*` matches any characters and appears only at the end. `/x*` covers `/x` and
everything that starts with `/x` (`/x/...`, `/x-y`); `/x/*` covers only what is below `/x/`. Clouds whose
path matcher is stricter convert these (see constructs_lib/gcp/url_map_paths.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GATEWAY_PORT, BACKEND_PORT, UI_PORT = 4000, 4001, 3000

# Readiness probes, as the LiteLLM images serve them.
GATEWAY_HEALTH_PATH = "/health/readiness"
BACKEND_HEALTH_PATH = "/health/readiness"
GATEWAY_LIVENESS_PATH = "/health/liveliness"
UI_HEALTH_PATH = "/healthz"

_OPENAI_COMPATIBLE = (
    "/v1/chat/*", "/chat/*",
    "/v1/completions*", "/completions*",
    "/v1/embeddings*", "/embeddings*",
    "/v1/moderations*", "/moderations*",
    "/v1/audio/*", "/audio/*",
    "/v1/images/*", "/images/*",
    "/v1/files*", "/files*",
    "/v1/batches*", "/batches*",
    "/v1/fine_tuning/*", "/fine_tuning/*",
    "/v1/fine-tuning/*", "/fine-tuning/*",
    "/v1/responses*", "/responses*",
    "/v1/threads*", "/threads*",
    "/v1/assistants*", "/assistants*",
    "/v1/vector_stores*", "/vector_stores*",
    "/v1/indexes*",
    "/v1/models*", "/models*",
    "/openai/*", "/engines/*",
)  # fmt: skip
_ANTHROPIC_AND_AGENTS = ("/v1/messages*", "/messages*", "/v1/skills/*", "/v1/a2a/*")
_LITELLM_NATIVE = (
    "/v1/rerank*", "/v2/rerank*", "/rerank*",
    "/v1/ocr*", "/ocr*",
    "/v1/rag/*", "/rag/*",
    "/v1/video/*", "/v1/videos/*", "/video/*", "/videos/*",
    "/v1/search*", "/search*",
    "/v1/containers/*", "/containers/*",
    "/v1/evals/*", "/v1/memory/*",
    "/queue/chat/*",
    "/v1beta/*", "/interactions/*",
)  # fmt: skip
_PROVIDER_PASSTHROUGH = (
    "/anthropic/*", "/azure/*", "/azure_ai/*", "/azure_speech/*", "/aws/*", "/bedrock/*",
    "/comprehendmedical*", "/transcribe*", "/cohere/*", "/gemini/*", "/google/*",
    "/vertex_ai/*", "/vertex-ai/*", "/assemblyai/*", "/eu.assemblyai/*", "/langfuse/*", "/vllm/*",
    "/mistral/*", "/groq/*", "/voyage/*", "/cursor/*", "/milvus/*", "/openai_passthrough/*", "/toolset/*",
)  # fmt: skip
_REALTIME_AND_OPS = ("/v1/realtime*", "/realtime*", "/health*", "/metrics", "/test*")

GATEWAY_PATH_PATTERNS: tuple[str, ...] = (
    *_OPENAI_COMPATIBLE,
    *_ANTHROPIC_AND_AGENTS,
    *_LITELLM_NATIVE,
    *_PROVIDER_PASSTHROUGH,
    *_REALTIME_AND_OPS,
)
UI_EXACT_PATHS: tuple[str, ...] = ("/", "/favicon.ico", "/ui")
UI_PREFIX_PATTERNS: tuple[str, ...] = ("/litellm-asset-prefix/*", "/_next/*", "/assets/*", "/ui/*")
UI_PATH_PATTERNS: tuple[str, ...] = (*UI_EXACT_PATHS, *UI_PREFIX_PATTERNS)

# ALB: at most 5 values per path-pattern condition; priorities must be unique per listener.
ALB_MAX_CONDITION_VALUES = 5
UI_RULE_PRIORITY_BASE = 10
GATEWAY_RULE_PRIORITY_BASE = 100


@dataclass(frozen=True)
class PathRule:
    """One load-balancer rule: forward these patterns to `target` (gateway | ui) at `priority`."""

    target: str
    priority: int
    patterns: tuple[str, ...]


def chunk(patterns: Sequence[str], size: int) -> list[tuple[str, ...]]:
    if size < 1:
        raise ValueError("chunk size must be positive")
    return [tuple(patterns[start : start + size]) for start in range(0, len(patterns), size)]


def path_rules(max_values: int = ALB_MAX_CONDITION_VALUES) -> list[PathRule]:
    """UI rules first (they hold `/`), then the gateway's, each chunk with a stable, distinct priority.

    Priorities depend only on a pattern's position in the lists above, so adding a pattern at the end never
    renumbers existing rules.
    """
    rules = [
        PathRule("ui", UI_RULE_PRIORITY_BASE + index, patterns)
        for index, patterns in enumerate(chunk(UI_PATH_PATTERNS, max_values))
    ]
    rules += [
        PathRule("gateway", GATEWAY_RULE_PRIORITY_BASE + index, patterns)
        for index, patterns in enumerate(chunk(GATEWAY_PATH_PATTERNS, max_values))
    ]
    return rules
