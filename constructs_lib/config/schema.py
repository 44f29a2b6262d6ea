"""Print the JSON Schema of an environment file (`make config-schema` writes it to config/schema.json)."""

from __future__ import annotations

import json

from constructs_lib.config.environment import EnvironmentConfig


def environment_json_schema() -> dict:
    schema = EnvironmentConfig.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "llm-gateway-cdktf environment file (config/<env>.yaml)"
    return schema


if __name__ == "__main__":
    print(json.dumps(environment_json_schema(), indent=2, sort_keys=True))
