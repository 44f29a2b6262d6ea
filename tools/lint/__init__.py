"""Lint checks of the project: workflow linters, workflow rules, secret scan, and the runner for all of them."""
