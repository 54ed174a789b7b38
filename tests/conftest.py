"""Settings for every test: nothing is written into the checkout or the user's home."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _keep_files_out_of_the_checkout(tmp_path_factory, monkeypatch):
    """Drawings, the REPL's history and the parsed-library cache go to temporary directories."""
    monkeypatch.setenv("RASP_DRAW_DIR", str(tmp_path_factory.mktemp("drawings")))
    monkeypatch.setenv("RASP_HISTORY", str(tmp_path_factory.mktemp("history") / "history"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
