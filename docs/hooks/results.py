"""MkDocs hook: publish the benchmark plots of benchmarks/results/ beside the docs.

The tables are included with pymdownx.snippets; images cannot be, so each PNG is added
to the site as `assets/<name>.png` straight from benchmarks/results/, never copied into
docs/, and a re-run benchmark shows up at the next build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    """Add every PNG of benchmarks/results/ to the site under assets/."""
    for png in sorted(RESULTS.glob("*.png")):
        files.append(File.generated(config, f"assets/{png.name}", abs_src_path=str(png)))
    return files
