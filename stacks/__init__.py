"""Stacks: where providers, backends and tags meet the construct library. One module per cloud and kind."""
