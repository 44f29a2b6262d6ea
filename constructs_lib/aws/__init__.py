"""AWS constructs (on the prebuilt `cdktf-cdktf-provider-aws` bindings, imported per submodule)."""
