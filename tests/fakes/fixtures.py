"""Pytest fixtures for offline LLM tests: a fake provider, a network guard, offline litellm.

Register them in ``tests/conftest.py`` with ``pytest_plugins = ["tests.fakes.fixtures"]``.
Then::

    def test_retry(provider: FakeProvider, litellm: ModuleType) -> None:
        provider.script(["500", "ok"])
        ...  # call litellm.completion(model="openai/gpt-4o-mini", api_base=provider.base_url, ...)
        assert provider.hits == 2

Importing this module sets ``LITELLM_LOCAL_MODEL_COST_MAP=True`` so that litellm, when a
test imports it, reads its bundled cost map instead of fetching one from GitHub.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest

from tests.fakes.provider_server import FakeProvider

# litellm reads this once, when it is imported: without it the import tries GitHub (5 s
# timeout, then a background retry thread) before falling back to the bundled map.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

_guards: list[list[str]] = []  # one list of refused attempts per active guard


def _is_local(host: Any) -> bool:
    """Whether a host (name or address) is this machine."""
    if isinstance(host, bytes):
        host = host.decode()
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Refuse DNS lookups and connections to anything but loopback while a guard is on."""
    if not _guards:
        return
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event == "socket.connect" and isinstance(args[1], tuple):
        host = args[1][0]
    else:
        return
    if not _is_local(host):
        for attempts in _guards:
            attempts.append(f"{event} {host!r}")
        raise ConnectionRefusedError(f"tests may not reach {host!r}: only 127.0.0.1 is allowed")


sys.addaudithook(_audit)  # hooks cannot be removed; it does nothing while no guard is on


@contextmanager
def external_network_blocked() -> Iterator[list[str]]:
    """Refuse DNS lookups and connections beyond loopback; yields the refused attempts."""
    attempts: list[str] = []
    _guards.append(attempts)
    try:
        yield attempts
    finally:
        _guards.remove(attempts)


@pytest.fixture
def no_external_network() -> Iterator[None]:
    """Fail fast, and fail the test, on any DNS lookup or connection beyond loopback."""
    with external_network_blocked() as attempts:
        yield
    assert not attempts, f"the test tried to reach the network: {attempts}"


@pytest.fixture
def provider(no_external_network: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    """A running ``FakeProvider`` on 127.0.0.1; stopped, and checked for errors, afterwards."""
    for name in ("NO_PROXY", "no_proxy"):  # an HTTP(S)_PROXY must not capture our requests
        monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1"])))
    with FakeProvider() as server:
        yield server
    assert not server.errors, f"the fake provider failed: {server.errors!r}"


@pytest.fixture
def litellm() -> Iterator[ModuleType]:
    """litellm, imported offline and quiet, with an event loop the test owns.

    It does not block the network by itself: take ``provider`` or ``no_external_network``.

    Sync ``litellm.completion`` calls ``asyncio.get_event_loop()`` for its logging hooks,
    which creates a main-thread loop nobody closes; when a later ``asyncio.run`` replaces
    it, its ``ResourceWarning`` fails the suite under ``-W error``. So this fixture sets a
    loop of its own for the test and closes it afterwards.
    """
    module = pytest.importorskip("litellm")
    from litellm.litellm_core_utils.get_model_cost_map import get_model_cost_map_source_info

    info = get_model_cost_map_source_info()
    assert info["is_env_forced"], f"litellm was imported before the fixtures: {info}"
    # litellm's import adds this filter itself, but pytest resets the filters per test
    # (and importorskip imports under catch_warnings), so -W error would raise it here.
    warnings.filterwarnings("ignore", message=r".*`ReadOnly` qualifier", category=UserWarning)
    module.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on errors
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield module
    finally:
        asyncio.set_event_loop(None)
        loop.close()
