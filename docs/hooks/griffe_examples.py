"""Griffe extension: read the docstrings' ``Example:`` sections as Google-style examples.

The packages' docstrings head their doctests ``Example:``, which napoleon reads as an
examples section; griffe's Google parser knows only ``Examples:`` and would render the
doctest lines as Markdown. This renames the heading while the API reference is built;
the source is untouched and the doctests run as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_HEADING = re.compile(r"^(\s*)Example:\s*$", re.M)


class ExampleSections(griffe.Extension):
    """Rename each docstring's ``Example:`` heading to ``Examples:``."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Fix the docstring of every object griffe visits."""
        if obj.docstring is not None:
            obj.docstring.value = _HEADING.sub(r"\1Examples:", obj.docstring.value)
