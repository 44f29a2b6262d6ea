"""Construct library for the LLM gateway: cloud-neutral pieces in ``_common``, one package per cloud.

Constructs here never create providers or backends; stacks (``stacks/``) do. How fast the jsii bindings load
is not this library's concern: the programs that synthesize switch that on (``synth_speed.enable()``).
"""
