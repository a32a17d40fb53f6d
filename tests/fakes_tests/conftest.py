"""The fake-provider fixtures, until tests/conftest.py registers them for the whole suite."""

from tests.fakes.fixtures import litellm, no_external_network, provider

__all__ = ["litellm", "no_external_network", "provider"]
