"""``Scenario``: K synthetic paths whose quality, errors, latency and price change over a run."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from bandits import ConfigError
from simulations._curves import Curve, as_curve, curve_points, problems

CurveField = Annotated[Curve, BeforeValidator(as_curve)]

MAX_SECONDS = 86_400.0  # latencies, timeouts and Retry-After: at most a simulated day
MAX_RATE = 1_000_000.0  # requests per simulated second
MAX_PRICE = 1_000_000.0  # dollars per call


class Latency(BaseModel):
    """Log-normal latency in seconds: ``median`` (a curve) and shape ``sigma``.

    The 99th percentile is ``median * exp(2.33 * sigma)``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    median: CurveField = Field(default_factory=lambda: as_curve(0.5))
    sigma: float = Field(default=0.3, ge=0.0, le=3.0, allow_inf_nan=False)


class PathSpec(BaseModel):
    """One synthetic path.

    ``success`` is the probability that an output it returns passes the success
    function; ``error_rate`` the probability a call raises ``error_kind`` instead
    (``5xx``: a server error; ``timeout``: the call hangs past the path's timeout;
    ``429``: rate limited, with ``retry_after`` seconds). ``price`` is dollars per
    call; ``starts_at`` the point of the run where the path is deployed, and
    ``canary`` whether it is deployed as a canary (``Router.add_path(canary=True)``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    success: CurveField
    error_rate: CurveField = Field(default_factory=lambda: as_curve(0.0))
    error_kind: Literal["5xx", "timeout", "429"] = "5xx"
    retry_after: float = Field(default=1.0, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    latency: Latency = Field(default_factory=Latency)
    timeout: float = Field(default=10.0, gt=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    price: CurveField = Field(default_factory=lambda: as_curve(0.0))
    starts_at: float = Field(default=0.0, ge=0.0, lt=1.0)
    canary: bool = False

    @model_validator(mode="after")
    def _ranges(self) -> PathSpec:
        for field in ("success", "error_rate"):
            bad = [v for v in curve_points(getattr(self, field)) if not 0.0 <= v <= 1.0]
            if bad:
                raise ValueError(f"{field} must stay within [0, 1], got {bad}")
        bounds = (
            ("latency.median", self.latency.median, MAX_SECONDS),
            ("price", self.price, MAX_PRICE),
        )
        for field, curve, high in bounds:
            bad = [v for v in curve_points(curve) if not 0.0 <= v <= high]
            if bad:
                raise ValueError(f"{field} must be a number from 0 to {high:g}, got {bad}")
        return self


class Scenario(BaseModel):
    """A degradation scenario: paths, run length and request rate.

    Example:
        >>> s = Scenario(name="demo", description="two paths", paths=[
        ...     {"name": "a", "success": 0.9}, {"name": "b", "success": 0.8}])
        >>> s.requests, s.rate, [p.name for p in s.paths]
        (20000, 1.0, ['a', 'b'])
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    description: str
    requests: int = Field(default=20_000, ge=10)
    rate: float = Field(
        default=1.0,
        gt=0.0,
        le=MAX_RATE,
        allow_inf_nan=False,
        description="requests per simulated second",
    )
    paths: list[PathSpec] = Field(min_length=1)
    kind: str | None = Field(
        default=None,
        max_length=50,
        description="the kind of change replayed (set by simulations.random_scenarios)",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        names = [p.name for p in self.paths]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"path names must be unique, repeated: {duplicates}")
        if all(p.starts_at > 0 for p in self.paths):
            raise ValueError("at least one path must start at 0")
        return self

    def with_options(self, *, requests: int | None = None, rate: float | None = None) -> Scenario:
        """A copy with another length or rate.

        Raises:
            ConfigError: the new length or rate is out of range.

        Example:
            >>> load_scenario("outage").with_options(rate=50.0).rate
            50.0
        """
        update: dict[str, Any] = {}
        if requests is not None:
            update["requests"] = requests
        if rate is not None:
            update["rate"] = rate
        return _validated({**self.model_dump(), **update}, f"{self.name!r}")


BUILTIN = (
    "incident",
    "stationary",
    "outage",
    "silent-drift",
    "latency-spike",
    "rate-limit-storm",
    "price-change",
    "new-path",
    "flapping",
    "gradual-drift",
    "piecewise-benchmark",
    "canary-rollout",
)


def builtin_scenarios() -> dict[str, Scenario]:
    """Every scenario shipped with the package, by name."""
    return {name: load_scenario(name) for name in BUILTIN}


def load_scenario(name_or_file: str | Path) -> Scenario:
    """Load a built-in scenario by name, or a ``.toml`` / ``.yaml`` file.

    Raises:
        ConfigError: unknown name, unreadable file, or a scenario that does not validate
            (the message lists each field at fault).

    Example:
        >>> load_scenario("outage").paths[0].name
        'gpt-4o'
    """
    text, source, kind = _read(name_or_file)
    try:
        data = tomllib.loads(text) if kind == "toml" else _yaml(text, source)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError(f"scenario {source} is not valid {kind.upper()}: {exc}") from exc
    return _validated(data, source)


def _validated(data: Any, source: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"scenario {source} is invalid: {problems(exc)}") from exc


def _read(name_or_file: str | Path) -> tuple[str, str, str]:
    if str(name_or_file) in BUILTIN:
        file = resources.files("simulations") / "scenarios" / f"{name_or_file}.toml"
        return file.read_text(encoding="utf-8"), f"{name_or_file!r}", "toml"
    path = Path(name_or_file)
    if path.suffix not in (".toml", ".yaml", ".yml"):
        raise ConfigError(
            f"unknown scenario {str(name_or_file)!r}; use one of {', '.join(BUILTIN)} "
            "or a .toml/.yaml file"
        )
    return _read_file(path)


def _read_file(path: Path) -> tuple[str, str, str]:
    """A scenario file's text, its name for messages, and its form (toml or yaml)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read scenario file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"scenario file {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "save it as UTF-8"
        ) from exc
    return text, str(path), "toml" if path.suffix == ".toml" else "yaml"


def _yaml(text: str, source: str) -> Any:
    try:
        import yaml
    except ImportError as exc:
        raise ConfigError(
            f"reading {source} needs PyYAML: pip install pyyaml (or write the scenario in TOML)"
        ) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc
