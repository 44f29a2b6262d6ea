"""Google Cloud constructs (on the prebuilt `cdktf-cdktf-provider-google` bindings, imported per submodule)."""
