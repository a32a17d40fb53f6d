"""router.llm stays off the network and out of ``import router``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from router._litellm import COST_MAP_ENV, load_litellm
from tests.fakes import FakeProvider

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import os, socket, sys
import router, router.llm
assert 'litellm' not in sys.modules, 'import router(.llm) imported litellm'
assert 'LITELLM_LOCAL_MODEL_COST_MAP' not in os.environ
reached = []
def audit(event, args):
    if event == 'socket.getaddrinfo':
        host = args[0]
    elif event == 'socket.connect' and isinstance(args[1], tuple):
        host = args[1][0]
    else:
        return
    if str(host) not in ('127.0.0.1', 'localhost'):
        reached.append(host)
        raise ConnectionRefusedError(host)
sys.addaudithook(audit)
path = router.llm.LLMPath('openai/gpt-4o-mini', '{input}', api_base=sys.argv[1], api_key='t')
metered = path.fn('two pens')
assert metered.output == 'This is a fake reply.' and metered.cost > 0, metered
assert os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] == 'True'
assert not reached, reached
print('ok')
"""


def test_import_router_does_not_import_litellm_nor_call_use_the_network(
    provider: FakeProvider,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != COST_MAP_ENV}
    env.update(PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", CHILD, provider.base_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr[-2000:]
    assert provider.hits == 1


def test_a_cost_map_setting_of_the_user_is_kept(
    litellm: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(COST_MAP_ENV, "False")
    assert load_litellm() is litellm  # imported already (offline): only the variable is checked
    assert os.environ[COST_MAP_ENV] == "False"
