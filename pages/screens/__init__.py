"""The page scripts, one per page of the registry in `pages/__init__.py`."""
