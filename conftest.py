"""Test harness shared by tests/ and every plugin's tests: see linkstar_testing below."""

pytest_plugins = ["tests.harness"]
