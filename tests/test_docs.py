"""The documentation works: its Python examples run and the MkDocs site builds strictly.

Every ```python block of README.md and of docs/ runs here, in a fresh directory, and
must print something. Blocks fenced ```py are shown and not run: they call real
providers or need a PostgreSQL server (the page says so above them), and the tests of
their packages run the same calls offline.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if "hooks" not in p.parts)]
# Each public package and the reference page that documents it.
REFERENCE = {
    "router": "router",
    "router.llm": "llm",
    "storage": "storage",
    "bandits": "bandits",
    "simulations": "simulations",
}
SNIPPET = re.compile(r'^--8<-- "([^"]+)"$', re.M)


def _python_blocks() -> list[pytest.param]:
    blocks = []
    for page in PAGES:
        name = page.relative_to(ROOT).as_posix()
        found = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
        blocks += [pytest.param(name, b, id=f"{name}:{i}") for i, b in enumerate(found, 1)]
    return blocks


@pytest.mark.parametrize(("page", "block"), _python_blocks())
def test_python_examples_run(
    page: str,
    block: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(block, page, "exec"), {"__name__": "docs"})
    assert capsys.readouterr().out.strip()


def test_every_guide_has_a_python_example() -> None:
    guides = sorted((DOCS / "guides").glob("*.md"))
    assert len(guides) >= 7
    for guide in guides:
        assert "```python\n" in guide.read_text(), f"{guide.name} runs no example"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `mkdocs build --strict` writes it: any warning fails the build."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return out


def test_mkdocs_build_strict_passes(site: Path) -> None:
    for page in ["index.html", "guides/routing/index.html", "benchmarks/index.html"]:
        assert (site / page).is_file(), page
    assert (site / "assets" / "chapelle_li.png").is_file()  # from benchmarks/results/


@pytest.mark.parametrize("package", sorted(REFERENCE))
def test_the_api_reference_documents_every_public_name(site: Path, package: str) -> None:
    page = (site / "reference" / REFERENCE[package] / "index.html").read_text()
    public = importlib.import_module(package).__all__
    missing = [name for name in public if f'id="{package}.{name}"' not in page]
    assert not missing, f"{package} reference lacks {missing}"


def test_every_benchmark_result_is_included_in_the_docs() -> None:
    """Tables come from benchmarks/results/ (snippets), so a re-run benchmark shows up."""
    included = {m for page in PAGES[1:] for m in SNIPPET.findall(page.read_text())}
    for target in included:
        assert (ROOT / target.split(":")[0]).is_file(), target
    results = ROOT / "benchmarks" / "results"
    written = [p for p in results.iterdir() if p.suffix in {".md", ".txt"}]
    tables = {f"benchmarks/results/{p.name}" for p in written}
    assert tables <= included, f"not in the docs: {sorted(tables - included)}"


def test_readme_links_resolve_and_it_stays_short() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    assert any(link.startswith("docs/") for link in links)
    for link in links:
        if "://" not in link:
            assert (ROOT / link).exists(), link
    assert "\n## Results\n" in readme
