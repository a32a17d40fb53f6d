"""Test doubles: a fake OpenAI-compatible provider served on 127.0.0.1."""

from tests.fakes.provider_server import FakeProvider, Fault, RecordedRequest

__all__ = ["FakeProvider", "Fault", "RecordedRequest"]
