"""The app graph runs one way (README, Layout): records above agreements and breaches, which
know nothing of each other, above the project frame, above core."""

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("avg_portal", "core", "agreements", "breaches", "records")

# What each package must never import, directly or through others.
FORBIDDEN = {
    "core": ("avg_portal", "agreements", "breaches", "records"),
    "avg_portal": ("agreements", "breaches", "records"),
    "agreements": ("breaches", "records"),
    "breaches": ("agreements", "records"),
}


@pytest.fixture(scope="module")
def graph():
    sys.path.insert(0, str(ROOT))
    try:
        return grimp.build_graph(*APPS, cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))


@pytest.mark.parametrize(
    ("importer", "imported"), [(a, b) for a, bs in FORBIDDEN.items() for b in bs]
)
def test_no_import_runs_the_wrong_way(graph, importer, imported):
    chain = graph.find_shortest_chain(importer=importer, imported=imported, as_packages=True)
    assert chain is None, f"{importer} reaches {imported} through {' → '.join(chain)}"


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
