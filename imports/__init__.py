"""Generated, typed provider bindings (see ``imports/README.md``); nothing is imported eagerly."""
