"""Generator of the pure-Python provider bindings under ``imports/`` (see ``imports/README.md``)."""
