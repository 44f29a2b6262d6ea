"""Derives ``terraform providers schema -json`` documents from provider Go source at a pinned tag."""
