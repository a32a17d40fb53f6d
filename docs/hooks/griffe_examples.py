"""Griffe extension: read the packages' reST-flavoured docstrings as the reference shows them.

The docstrings are Google style with two habits of Sphinx that griffe's Google parser
does not know: doctests headed ``Example:`` (napoleon reads it as an examples section;
griffe knows only ``Examples:`` and would render the doctest lines as Markdown), and
roles such as ``:meth:`disable_path```, which would show as ``:meth:`` before the code.
This rewrites both while the API reference is built; the source is untouched and the
doctests run as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_HEADING = re.compile(r"^(\s*)Example:\s*$", re.M)
_ROLE = re.compile(r":(?:mod|class|meth|func|attr|data|exc|obj):`~?([^`]+)`")


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` headings to ``Examples:`` and show Sphinx roles as code."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the docstring of every object griffe visits."""
        if obj.docstring is not None:
            value = _HEADING.sub(r"\1Examples:", obj.docstring.value)
            obj.docstring.value = _ROLE.sub(r"``\1``", value)
