"""Helpers the GitHub Actions workflows call: stack selection, PR plan comments, LiteLLM key hand-off."""
