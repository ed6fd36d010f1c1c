"""The scripts under ``scripts/`` import (benchmarks are run by hand, so nothing else would notice
one going stale), and the steps the suggestion benchmark times still exist in the engine."""

import importlib
from pathlib import Path

import pytest

from tests.helpers import ROOT

SCRIPTS = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in (ROOT / "scripts").rglob("*.py")
    if path.name != "__init__.py"
)


def test_the_scripts_are_found() -> None:
    assert "scripts.bench_suggestions" in SCRIPTS and "scripts.benchkit.workspace" in SCRIPTS


@pytest.mark.parametrize("module", SCRIPTS)
def test_each_script_imports(module: str) -> None:
    imported = importlib.import_module(module)
    assert Path(str(imported.__file__)).is_file()


def test_the_suggestion_benchmark_times_steps_that_exist() -> None:
    bench = importlib.import_module("scripts.bench_suggestions")
    engine = importlib.import_module("app.suggestions.engine")
    for module, name in bench.TIMED_FUNCTIONS:
        assert callable(getattr(importlib.import_module(module), name, None)), (module, name)
    for name in bench.TIMED_ENGINE_METHODS:
        assert callable(getattr(engine.SuggestionEngine, name, None)), name
