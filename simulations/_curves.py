"""Values that change over a run: constant, step-wise or linearly interpolated.

Positions are fractions of the run (0 = first request, 1 = the end), so a scenario
keeps its shape at any length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

if TYPE_CHECKING:
    import numpy as np

Point = tuple[Annotated[float, Field(ge=0.0, le=1.0)], float]


class _Curve(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def values(self, requests: int) -> np.ndarray:
        """The curve at every request index 0 .. requests - 1."""
        raise NotImplementedError

    def breakpoints(self) -> list[float]:
        """Positions where the curve changes abruptly."""
        return []


class Steps(_Curve):
    """Piecewise constant: each ``[at, value]`` holds from ``at`` until the next point.

    Example:
        >>> Steps(steps=[(0.0, 1.0), (0.5, 0.0)]).values(4).tolist()
        [1.0, 1.0, 0.0, 0.0]
    """

    steps: list[Point] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _increasing(cls, points: list[Point]) -> list[Point]:
        return _check_increasing(points)

    def values(self, requests: int) -> np.ndarray:
        import numpy as np

        positions = np.arange(requests) / max(requests, 1)
        at = np.array([p[0] for p in self.steps])
        values = np.array([p[1] for p in self.steps])
        index = np.searchsorted(at, positions, side="right") - 1
        return np.where(index < 0, values[0], values[np.clip(index, 0, None)])

    def breakpoints(self) -> list[float]:
        return [at for at, _ in self.steps[1:]]


class Linear(_Curve):
    """Linear interpolation between ``[at, value]`` points, constant beyond the ends.

    Example:
        >>> Linear(linear=[(0.0, 1.0), (1.0, 0.0)]).values(4).tolist()
        [1.0, 0.75, 0.5, 0.25]
    """

    linear: list[Point] = Field(min_length=2)

    @field_validator("linear")
    @classmethod
    def _increasing(cls, points: list[Point]) -> list[Point]:
        return _check_increasing(points)

    def values(self, requests: int) -> np.ndarray:
        import numpy as np

        positions = np.arange(requests) / max(requests, 1)
        return np.interp(positions, [p[0] for p in self.linear], [p[1] for p in self.linear])


class Constant(_Curve):
    """The same value for the whole run."""

    value: float

    def values(self, requests: int) -> np.ndarray:
        import numpy as np

        return np.full(requests, self.value)


Curve = Constant | Steps | Linear


CURVE_FORMS = "a number, {steps = [[at, value], ...]} or {linear = [[at, value], ...]}"


def as_curve(value: Any) -> Any:
    """Build the curve a scenario file wrote: a plain number is a constant.

    Raises:
        ValueError: not one of the three forms (the message names the fault and the forms).

    Example:
        >>> as_curve(0.5), as_curve({"steps": [[0, 1.0], [0.5, 0.0]]}).breakpoints()
        (Constant(value=0.5), [0.5])
    """
    if isinstance(value, _Curve):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Constant(value=float(value))
    kinds: dict[str, type[_Curve]] = {"steps": Steps, "linear": Linear, "value": Constant}
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in kinds:
        try:
            return kinds[next(iter(value))].model_validate(value)
        except ValidationError as exc:
            raise ValueError(f"{problems(exc)} (a curve is {CURVE_FORMS})") from None
    raise ValueError(f"a curve is {CURVE_FORMS}; got {value!r}")


def problems(exc: ValidationError) -> str:
    """Each fault of a validation error as ``field.path: message``, joined by ``; ``.

    Example:
        >>> try:
        ...     Steps(steps=[])
        ... except ValidationError as exc:
        ...     print(problems(exc))
        steps: List should have at least 1 item after validation, not 0
    """
    faults = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        faults.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(faults)


def _check_increasing(points: list[Point]) -> list[Point]:
    positions = [at for at, _ in points]
    if positions != sorted(positions) or len(set(positions)) != len(positions):
        raise ValueError(f"positions must increase strictly, got {positions}")
    return points


def curve_points(curve: Curve) -> list[float]:
    """Every value written in the curve (to check bounds)."""
    if isinstance(curve, Constant):
        return [curve.value]
    if isinstance(curve, Steps):
        return [v for _, v in curve.steps]
    return [v for _, v in curve.linear]
