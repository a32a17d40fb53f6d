"""Paths from ``litellm.Router``'s ``model_list``: one path per model group.

A ``model_list`` entry is a deployment: ``{"model_name": group, "litellm_params":
{"model": ..., "api_base": ..., "api_key": ..., "rpm": ..., "tpm": ...}}`` (``rpm`` and
``tpm`` may also sit beside ``litellm_params``). Each group becomes one path, named
after the group, so the router learns per group as litellm.Router routes per group:

* a group of one deployment is an LLM path of that deployment's ``litellm_params``;
* a group of several is a path whose calls go through a ``litellm.Router`` over those
  deployments only (litellm's own load balancing between them, with no retries of its
  own: the router retries and falls back).

A deployment's ``rpm`` / ``tpm`` become the path's ``RateLimit(per_minute=...,
tokens_per_minute=..., shared=True)``, counted in the store (tokens from each call's
usage), so every router on the store shares the provider's limit; a group's limit is
the sum of its deployments' (when each has one). ``input_cost_per_token`` /
``output_cost_per_token`` become ``price_per_1k_tokens``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bandits import ConfigError
from router._limits import RateLimit
from router._llm_call import AsyncLLMCall, LLMCall, model_priced
from router._path import Path

_LIMITS = ("rpm", "tpm")
_PRICES = ("input_cost_per_token", "output_cost_per_token")


Build = Callable[..., Path]
"""``build(call, model, prompt, name=..., rate_limit=..., **options)``: a path whose
function is ``call(model, prompt, ...)``."""


def model_list_paths(
    model_list: Sequence[Mapping[str, Any]],
    prompt: Any,
    build: Build,
    calls: tuple[Callable[..., LLMCall], Callable[..., LLMCall]],
    options: Mapping[str, Any],
) -> list[Path]:
    """One path per model group of ``model_list`` (see the module docstring).

    ``calls`` are the call classes of a one-deployment group and of a larger one;
    ``options`` (the ``LLMPath`` arguments and litellm kwargs) go to every path, over
    the deployments' own ``litellm_params``.
    """
    single, several = calls
    paths = []
    for group, deployments in _groups(model_list).items():
        limit = _rate_limit(group, deployments)
        params = [_params(deployment) for deployment in deployments]
        if len(deployments) == 1:
            (only,) = params
            model = only.pop("model")
            price = _price(only)
            if price is not None and "price_per_1k_tokens" not in options:
                only["price_per_1k_tokens"] = price
            merged = {**only, **options}
            paths.append(build(single, model, prompt, name=group, rate_limit=limit, **merged))
        else:
            listed = [{"model_name": group, "litellm_params": p} for p in params]
            call = _with_deployments(several, listed)
            paths.append(build(call, group, prompt, name=group, rate_limit=limit, **options))
    return paths


def _with_deployments(
    call: Callable[..., LLMCall], deployments: list[dict[str, Any]]
) -> Callable[..., LLMCall]:
    def make(*args: Any, **kwargs: Any) -> LLMCall:
        return call(*args, deployments=deployments, **kwargs)

    return make


def _groups(model_list: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    if isinstance(model_list, str | bytes | Mapping) or not isinstance(model_list, Sequence):
        raise ConfigError(
            "model_list must be a list of deployments, as litellm.Router takes: "
            '[{"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}}, ...]'
        )
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for number, deployment in enumerate(model_list):
        name = deployment.get("model_name") if isinstance(deployment, Mapping) else None
        params = deployment.get("litellm_params") if isinstance(deployment, Mapping) else None
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                f"model_list[{number}] needs a model_name (its group), got {deployment!r}"
            )
        if not isinstance(params, Mapping) or not isinstance(params.get("model"), str):
            raise ConfigError(
                f"model_list[{number}] ({name!r}) needs litellm_params with a model, such as "
                '{"model": "openai/gpt-4o-mini", "api_key": ...}'
            )
        groups.setdefault(name, []).append(deployment)
    if not groups:
        raise ConfigError("model_list is empty: give it at least one deployment")
    return groups


def _params(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The deployment's litellm_params, less the limits (they become the RateLimit)."""
    return {k: v for k, v in deployment["litellm_params"].items() if k not in _LIMITS}


def _limit_of(deployment: Mapping[str, Any], key: str) -> float | None:
    value = deployment["litellm_params"].get(key, deployment.get(key))
    return None if value is None else float(value)


def _rate_limit(group: str, deployments: Sequence[Mapping[str, Any]]) -> RateLimit | None:
    """The group's shared RateLimit: the sum of its deployments' rpm and tpm."""
    totals: dict[str, float | None] = {}
    for key in _LIMITS:
        values = [_limit_of(d, key) for d in deployments]
        totals[key] = None if any(v is None for v in values) else sum(v for v in values if v)
    if totals["rpm"] is None and totals["tpm"] is None:
        return None
    try:
        return RateLimit(per_minute=totals["rpm"], tokens_per_minute=totals["tpm"], shared=True)
    except ConfigError as exc:
        raise ConfigError(f"model group {group!r}: rpm and tpm must be positive ({exc})") from exc


def _price(params: dict[str, Any]) -> tuple[float, float] | None:
    """``price_per_1k_tokens`` from litellm's per-token prices (removed from params)."""
    given = [params.pop(key, None) for key in _PRICES]
    if given[0] is None or given[1] is None:
        return None
    return (float(given[0]) * 1000.0, float(given[1]) * 1000.0)


class GroupCall(LLMCall):
    """The call of a model group of several deployments: through a ``litellm.Router``
    over them (built on the first call), which picks a deployment per call.

    ``model`` is the group's name, which the litellm router resolves.
    """

    def __init__(self, model: str, prompt: Any, *, deployments: Sequence[Any], **kw: Any) -> None:
        super().__init__(model, prompt, **kw)
        self.deployments = [dict(d) for d in deployments]
        self._lock = threading.Lock()
        self._router: Any = None

    @property
    def priced(self) -> bool | None:
        """Are all the group's models priced (or is ``price_per_1k_tokens`` given)?"""
        if self.price_per_1k_tokens is not None:
            return True
        checks = [model_priced(d["litellm_params"]["model"]) for d in self.deployments]
        if any(check is None for check in checks):
            return None
        return all(checks)

    def litellm_router(self, litellm: Any) -> Any:
        """The group's ``litellm.Router`` (no retries, no cooldown of its own)."""
        with self._lock:
            if self._router is None:
                self._router = litellm.Router(model_list=self.deployments, num_retries=0)
            return self._router

    def complete(self, litellm: Any, request: Mapping[str, Any]) -> Any:
        return self.litellm_router(litellm).completion(**request)

    async def acomplete(self, litellm: Any, request: Mapping[str, Any]) -> Any:
        return await self.litellm_router(litellm).acompletion(**request)


class AsyncGroupCall(GroupCall, AsyncLLMCall):
    """:class:`GroupCall` for async code (``AsyncLLMPath.from_model_list``)."""
