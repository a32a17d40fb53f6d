"""``ContextualScenario``: request *kinds* with their share of traffic, their context, and
the quality, errors and price of every path for each kind, all possibly changing over a run.

A kind is one sort of request ("easy-en", "hard-code", "de"). Each request is of one kind,
drawn by the kinds' shares at that point of the run; its context is the kind's fixed
values (``{"lang": "de"}``), its drawn features (``length``: normal or uniform; ``tier``:
one of some choices), and the scenario's irrelevant keys, drawn the same way for every
kind, so they carry no signal about which path is best.
"""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from bandits import ConfigError
from simulations._curves import Curve, as_curve, curve_points, problems
from simulations._scenario import MAX_PRICE, MAX_RATE, MAX_SECONDS, Latency, _read_file, _yaml

CurveField = Annotated[Curve, BeforeValidator(as_curve)]
Value = str | bool | int | float  # what a context may hold
Key = Annotated[str, Field(min_length=1, max_length=64)]

MAX_KEYS = 32  # the Router's limit on context keys per request


class Draw(BaseModel):
    """How one context value is drawn per request: exactly one of ``normal = [mean, sd]``,
    ``uniform = [low, high]`` or ``choices = [...]`` (with optional ``weights``).

    ``integer`` rounds a number to an int; ``low`` and ``high`` clip it.

    Example:
        >>> Draw(normal=(1800.0, 400.0), low=1.0, integer=True).numeric
        True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    normal: tuple[float, Annotated[float, Field(ge=0.0)]] | None = None
    uniform: tuple[float, float] | None = None
    choices: list[str | bool] | None = Field(default=None, min_length=1)
    weights: list[Annotated[float, Field(ge=0.0)]] | None = None
    integer: bool = False
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Draw:
        forms = [f for f in ("normal", "uniform", "choices") if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError(
                "a drawn value is exactly one of normal = [mean, sd], uniform = [low, high] "
                f"or choices = [...]; got {forms or 'none'}"
            )
        if self.uniform is not None and not self.uniform[0] <= self.uniform[1]:
            raise ValueError(f"uniform = [low, high] needs low <= high, got {list(self.uniform)}")
        if self.weights is not None:
            if self.choices is None or len(self.weights) != len(self.choices):
                raise ValueError("weights need choices, one weight per choice")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be 0")
        if self.choices is not None and (
            self.integer or self.low is not None or self.high is not None
        ):
            raise ValueError("integer, low and high apply to numbers, not to choices")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self

    @property
    def numeric(self) -> bool:
        """Whether the value is a number (else one of the choices)."""
        return self.choices is None


class Quality(BaseModel):
    """A path's behaviour for one kind; what is left out comes from the path's defaults.

    ``success``: probability an output passes the success check; ``error_rate``: probability
    a call raises the path's ``error_kind`` instead; ``price``: dollars per call.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    success: CurveField | None = None
    error_rate: CurveField | None = None
    price: CurveField | None = None

    @model_validator(mode="after")
    def _ranges(self) -> Quality:
        _check_ranges(self.success, self.error_rate, self.price)
        return self


class ContextualPath(BaseModel):
    """One synthetic path and its defaults for every kind (a kind may override any of them).

    Example:
        >>> ContextualPath(name="mini", success=0.8, price=0.0002).error_kind
        '5xx'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    success: CurveField | None = None
    error_rate: CurveField = Field(default_factory=lambda: as_curve(0.0))
    error_kind: Literal["5xx", "timeout", "429"] = "5xx"
    retry_after: float = Field(default=1.0, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    latency: Latency = Field(default_factory=Latency)
    timeout: float = Field(default=10.0, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    price: CurveField = Field(default_factory=lambda: as_curve(0.0))

    @model_validator(mode="after")
    def _ranges(self) -> ContextualPath:
        _check_ranges(self.success, self.error_rate, self.price)
        bad = [v for v in curve_points(self.latency.median) if not 0.0 <= v <= MAX_SECONDS]
        if bad:
            raise ValueError(f"latency.median must be from 0 to {MAX_SECONDS:g} s, got {bad}")
        return self


class Kind(BaseModel):
    """One sort of request: its share of traffic (a curve; shares are relative, so
    ``[0.7, 0.3]`` and ``[7, 3]`` mean the same), its fixed ``context`` values, its drawn
    ``features``, and per path what differs from the path's defaults.

    Example:
        >>> Kind(name="de", share=0.2, context={"lang": "de"},
        ...      paths={"mini": {"success": 0.6}}).paths["mini"].success
        Constant(value=0.6)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    share: CurveField = Field(default_factory=lambda: as_curve(1.0))
    context: dict[Key, Value] = Field(default_factory=dict)
    features: dict[Key, Draw] = Field(default_factory=dict)
    paths: dict[str, Quality] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Kind:
        bad = [v for v in curve_points(self.share) if not 0.0 <= v <= 1e6]
        if bad:
            raise ValueError(f"share must be a number from 0 to 1e6, got {bad}")
        both = sorted(set(self.context) & set(self.features))
        if both:
            raise ValueError(f"keys {both} are both fixed (context) and drawn (features)")
        keys = [k for k, v in self.context.items() if isinstance(v, float) and not math.isfinite(v)]
        if keys:
            raise ValueError(f"context values must be finite numbers (not NaN or inf): {keys}")
        return self


class ContextualScenario(BaseModel):
    """Paths, request kinds and irrelevant context keys; run length and request rate.

    Example:
        >>> s = ContextualScenario(name="demo", description="two kinds", paths=[
        ...     {"name": "a", "success": 0.9}, {"name": "b", "success": 0.8}], kinds=[
        ...     {"name": "x", "context": {"lang": "en"}},
        ...     {"name": "y", "context": {"lang": "de"}, "paths": {"a": {"success": 0.5}}}])
        >>> s.requests, [k.name for k in s.kinds], s.quality("y", "a").success
        (10000, ['x', 'y'], Constant(value=0.5))
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    description: str
    requests: int = Field(default=10_000, ge=10)
    rate: float = Field(
        default=1.0,
        gt=0.0,
        le=MAX_RATE,
        allow_inf_nan=False,
        description="requests per simulated second",
    )
    paths: list[ContextualPath] = Field(min_length=1)
    kinds: list[Kind] = Field(min_length=1)
    irrelevant: dict[Key, Draw] = Field(
        default_factory=dict,
        description="context keys drawn alike for every kind: they carry no signal",
    )
    kind: str | None = Field(
        default=None,
        max_length=50,
        description="what the scenario tests (set by random_contextual_scenarios)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ContextualScenario:
        import numpy as np

        for label, names in (
            ("path", [p.name for p in self.paths]),
            ("kind", [k.name for k in self.kinds]),
        ):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{label} names must be unique, repeated: {repeated}")
        known = [p.name for p in self.paths]
        defaults = {p.name: p.success for p in self.paths}
        for kind in self.kinds:
            unknown = sorted(set(kind.paths) - set(known))
            if unknown:
                raise ValueError(
                    f"kind {kind.name!r} names unknown paths {unknown}; the paths are {known}"
                )
            missing = [
                n for n in known if defaults[n] is None and kind.paths.get(n, _NO).success is None
            ]
            if missing:
                raise ValueError(
                    f"kind {kind.name!r} gives no success for paths {missing}: set it in the "
                    "kind's paths table or as the path's default"
                )
            clash = sorted(set(self.irrelevant) & (set(kind.context) | set(kind.features)))
            if clash:
                raise ValueError(
                    f"irrelevant keys {clash} are also context of kind {kind.name!r}; rename them"
                )
            keys = len(set(kind.context) | set(kind.features) | set(self.irrelevant))
            if keys > MAX_KEYS:
                raise ValueError(f"kind {kind.name!r} has {keys} context keys; at most {MAX_KEYS}")
        shares = sum(k.share.values(self.requests) for k in self.kinds)
        if np.any(shares <= 0):
            first = int(np.argmax(shares <= 0))
            raise ValueError(
                f"the kinds' shares are all 0 at request {first} "
                f"({first / self.requests:.0%} of the run); give some kind a positive share there"
            )
        return self

    def quality(self, kind: str, path: str) -> ResolvedQuality:
        """The behaviour of ``path`` for requests of ``kind``, defaults filled in."""
        spec = next(p for p in self.paths if p.name == path)
        own = next(k for k in self.kinds if k.name == kind).paths.get(path, _NO)
        success = own.success if own.success is not None else spec.success
        assert success is not None  # checked by the validator
        return ResolvedQuality(
            success=success,
            error_rate=own.error_rate if own.error_rate is not None else spec.error_rate,
            price=own.price if own.price is not None else spec.price,
        )

    def with_options(
        self, *, requests: int | None = None, rate: float | None = None
    ) -> ContextualScenario:
        """A copy with another length or rate.

        Raises:
            ConfigError: the new length or rate is out of range.

        Example:
            >>> load_contextual_scenario("by-kind").with_options(requests=500).requests
            500
        """
        update: dict[str, Any] = {}
        if requests is not None:
            update["requests"] = requests
        if rate is not None:
            update["rate"] = rate
        return _validated({**self.model_dump(), **update}, f"{self.name!r}")


class ResolvedQuality(BaseModel):
    """A (kind, path) pair's success, error rate and price, every one a curve."""

    model_config = ConfigDict(frozen=True)

    success: Curve
    error_rate: Curve
    price: Curve


def _check_ranges(success: Curve | None, error_rate: Curve | None, price: Curve | None) -> None:
    for field, curve in (("success", success), ("error_rate", error_rate)):
        bad = [] if curve is None else [v for v in curve_points(curve) if not 0.0 <= v <= 1.0]
        if bad:
            raise ValueError(f"{field} must stay within [0, 1], got {bad}")
    bad = [] if price is None else [v for v in curve_points(price) if not 0.0 <= v <= MAX_PRICE]
    if bad:
        raise ValueError(f"price must be a number from 0 to {MAX_PRICE:g}, got {bad}")


_NO = Quality()  # a kind that changes nothing of a path

CONTEXTUAL_BUILTIN = (
    "by-kind",
    "segment-outage",
    "mix-shift",
    "irrelevant-context",
    "strong-or-cheap",
)


def builtin_contextual_scenarios() -> dict[str, ContextualScenario]:
    """Every contextual scenario shipped with the package, by name."""
    return {name: load_contextual_scenario(name) for name in CONTEXTUAL_BUILTIN}


def load_contextual_scenario(name_or_file: str | Path) -> ContextualScenario:
    """Load a built-in contextual scenario by name, or a ``.toml`` / ``.yaml`` file.

    Raises:
        ConfigError: unknown name, unreadable file, or a scenario that does not validate
            (the message lists each field at fault).

    Example:
        >>> [k.name for k in load_contextual_scenario("by-kind").kinds]
        ['easy-en', 'hard-code', 'de']
    """
    if str(name_or_file) in CONTEXTUAL_BUILTIN:
        file = resources.files("simulations") / "scenarios" / "contextual" / f"{name_or_file}.toml"
        text, source, form = file.read_text(encoding="utf-8"), f"{name_or_file!r}", "toml"
    else:
        if Path(name_or_file).suffix not in (".toml", ".yaml", ".yml"):
            raise ConfigError(
                f"unknown contextual scenario {str(name_or_file)!r}; use one of "
                f"{', '.join(CONTEXTUAL_BUILTIN)} or a .toml/.yaml file"
            )
        text, source, form = _read_file(Path(name_or_file))
    try:
        data = tomllib.loads(text) if form == "toml" else _yaml(text, source)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError(f"scenario {source} is not valid {form.upper()}: {exc}") from exc
    return _validated(data, source)


def _validated(data: Any, source: str) -> ContextualScenario:
    try:
        return ContextualScenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"contextual scenario {source} is invalid: {problems(exc)}") from exc
