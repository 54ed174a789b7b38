"""The measuring scripts run and print their tables (no timing is checked: figures vary by machine)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def _load(name: str):
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SCRIPTS))


def test_bench_prints_the_small_input_figures(capsys):
    bench = _load("bench")
    assert bench.main(["--small-only", "--runs", "3"]) == 0
    out = capsys.readouterr().out
    assert all(f'"program": "{title}"' in out for title in bench.BENCHMARKS)
    rows = bench.format_small(bench.small_inputs(bench_session(bench), 3))
    assert rows[0].startswith("small inputs: one call session[name](tokens) at n = 16") and len(rows) == 2 + 5


def bench_session(bench):
    session = bench.Session()
    session.sop_examples_on = session.selector_examples_on = False
    session.run(bench.PROGRAMS, "bench.rasp")
    return session


def test_compare_tracr_runs_rasp_alone_without_tracr(capsys, monkeypatch):
    compare = _load("compare_tracr")
    monkeypatch.setattr(compare, "load_tracr", lambda: None)  # as where tracr is not installed
    assert compare.main(["--quick", "--runs", "2"]) == 0
    out = capsys.readouterr().out
    assert "tracr is not installed" in out
    assert all(title in out for title in compare.bench.BENCHMARKS)
