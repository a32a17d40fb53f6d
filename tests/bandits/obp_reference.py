"""How the expected values in ``test_ope.py::test_estimates_match_open_bandit_pipeline``
were computed: Open Bandit Pipeline 0.5.7's own estimators on the arrays below.

Not a test (obp is not a dependency). To re-run it, on Python 3.10 (obp 0.5.7 requires
Python < 3.11)::

    python3.10 -m venv obp && obp/bin/pip install "numpy<2" scipy scikit-learn pandas
    obp/bin/pip install --no-deps obp==0.5.7
    obp/bin/python tests/bandits/obp_reference.py

Only ``obp.ope.estimators`` (and the ``obp.utils`` checks it calls) is loaded, with a
stand-in ``torch`` module: those functions never use torch, and installing it (with
obp's plotting and statistics dependencies) is not needed for these three estimators.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path

import numpy as np

# Twelve logged rounds over three paths: revenue-like rewards (outside [0, 1]), a
# stochastic target policy, and a reward model that is deliberately a little off.
ACTIONS = np.array([0, 1, 2, 0, 1, 2, 0, 0, 1, 2, 1, 0])
PSCORES = np.array([0.5, 0.3, 0.2, 0.5, 0.3, 0.2, 0.6, 0.6, 0.25, 0.15, 0.25, 0.6])
REWARDS = np.array([0.0, 2.5, 7.0, 1.0, 0.0, 3.0, 0.0, 1.5, 4.0, 0.0, 2.0, 0.5])
TARGET = np.array(
    [
        [0.2, 0.5, 0.3],
        [0.1, 0.6, 0.3],
        [0.3, 0.3, 0.4],
        [0.2, 0.5, 0.3],
        [0.1, 0.6, 0.3],
        [0.3, 0.3, 0.4],
        [0.5, 0.25, 0.25],
        [0.5, 0.25, 0.25],
        [0.1, 0.1, 0.8],
        [0.1, 0.1, 0.8],
        [0.2, 0.5, 0.3],
        [0.2, 0.5, 0.3],
    ]
)
REWARD_MODEL = np.array([[0.6, 1.8, 3.5]] * 6 + [[0.4, 2.2, 2.9]] * 6)


def _obp_estimators() -> types.ModuleType:
    """``obp.ope.estimators`` without the package ``__init__``s (torch, plotting...)."""
    spec = importlib.util.find_spec("obp")
    assert spec is not None and spec.submodule_search_locations, "obp is not installed"
    root = Path(next(iter(spec.submodule_search_locations)))
    for name, path in (("obp", root), ("obp.ope", root / "ope")):
        package = types.ModuleType(name)
        package.__path__ = [str(path)]
        sys.modules[name] = package
    torch = types.ModuleType("torch")
    torch.Tensor = torch.tensor = type("Tensor", (), {})  # annotations only
    sys.modules["torch"] = torch
    return importlib.import_module("obp.ope.estimators")


def main() -> None:
    """Print IPS, SNIPS and DR as obp 0.5.7 computes them (position 0, one slot)."""
    estimators = _obp_estimators()
    common = {
        "reward": REWARDS,
        "action": ACTIONS,
        "pscore": PSCORES,
        "action_dist": TARGET[:, :, np.newaxis],
        "position": np.zeros(len(ACTIONS), dtype=int),
    }
    ips = estimators.InverseProbabilityWeighting().estimate_policy_value(**common)
    snips = estimators.SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**common)
    dr = estimators.DoublyRobust().estimate_policy_value(
        **common, estimated_rewards_by_reg_model=REWARD_MODEL[:, :, np.newaxis]
    )
    print(f"obp {importlib.import_module('importlib.metadata').version('obp')}")
    print(f"IPS   = {ips!r}\nSNIPS = {snips!r}\nDR    = {dr!r}")


if __name__ == "__main__":
    main()
