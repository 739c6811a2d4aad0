"""The package version: one definition, read by ``pyproject.toml`` and the bundle manifest."""

__version__ = "0.1.0"
