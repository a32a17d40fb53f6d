"""Validating a path's output against a pydantic model (code fences and all)."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from bandits._errors import InvalidOutput as InvalidOutput  # noqa: PLC0414 (old home)
from router._names import shown

T = TypeVar("T")

_FENCE = re.compile(r"^\s*```[A-Za-z0-9_+-]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


def strip_code_fences(text: str) -> str:
    """The text inside a Markdown code fence (```json ... ```), or the text itself.

    Example:
        >>> strip_code_fences('```json\\n{"item": "pen"}\\n```')
        '{"item": "pen"}'
    """
    match = _FENCE.match(text)
    return match.group(1).strip() if match else text.strip()


def validate_output(model: type[T], output: Any) -> T:
    """``output`` as an instance of the pydantic ``model``.

    Strings are stripped of code fences and parsed as JSON; dicts and objects are
    validated as they are.

    Raises:
        InvalidOutput: with pydantic's explanation of what does not fit.

    Example:
        >>> from pydantic import BaseModel
        >>> class Order(BaseModel):
        ...     item: str
        ...     quantity: int
        >>> validate_output(Order, '```json\\n{"item": "pen", "quantity": 2}\\n```')
        Order(item='pen', quantity=2)
    """
    import json  # here, not at top: cold start of `import router`

    from pydantic import BaseModel, ValidationError

    if isinstance(output, model):
        return output
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"output model must be a pydantic BaseModel class, got {shown(model)}")
    try:
        if isinstance(output, str | bytes):
            text = output.decode() if isinstance(output, bytes) else output
            return model.model_validate(json.loads(strip_code_fences(text)))
        return model.model_validate(output)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(
            f"output is not JSON ({exc.msg} at line {exc.lineno}); expected a {model.__name__}"
        ) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidOutput(f"output does not fit {model.__name__}: {problems}") from exc
