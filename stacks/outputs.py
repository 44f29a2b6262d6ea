"""A gateway construct's outputs, written as the stack's `TerraformOutput`s."""

from __future__ import annotations

from collections.abc import Mapping

from cdktf import TerraformOutput, TerraformStack, Token

from constructs_lib._common.outputs import GatewayOutput


def write_outputs(stack: TerraformStack, outputs: Mapping[str, GatewayOutput]) -> None:
    """One output per entry; a None value is written as null (the output exists in every mode)."""
    for name, output in outputs.items():
        value = Token.null_value() if output.value is None else output.value
        TerraformOutput(stack, name, value=value, description=output.description)
