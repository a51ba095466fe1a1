"""Shared test configuration."""

# --- registry fixtures (registry, registry_basic, registry_token) ---
pytest_plugins = ["registry_fixtures"]
# --- end registry fixtures ---
