"""Settings for every test: nothing is written into the checkout or the user's home; the
Hypothesis profile named by RASP_HYPOTHESIS_PROFILE (tests/strategies.py); the `session` fixture."""

from __future__ import annotations

import pytest
import strategies

from rasp.interpreter import Session

strategies.load_profile()


@pytest.fixture(autouse=True)
def _keep_files_out_of_the_checkout(tmp_path_factory, monkeypatch):
    """Drawings, the REPL's history and the parsed-library cache go to temporary directories."""
    monkeypatch.setenv("RASP_DRAW_DIR", str(tmp_path_factory.mktemp("drawings")))
    monkeypatch.setenv("RASP_HISTORY", str(tmp_path_factory.mktemp("history") / "history"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def session() -> Session:
    """A fresh interpreter session with the standard library loaded (each test its own)."""
    return Session()


def pytest_report_header(config) -> str:
    return f"hypothesis profile: {strategies.profile_name()} (set {strategies.PROFILE_VARIABLE}=ci for the full counts)"
