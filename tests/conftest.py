"""Shared test set-up: one torch thread (a 2-core machine runs the suite ~5x faster that way) and
a private dataset cache per test session, so tests never read a developer's cache. Helpers shared
by several test folders (``two_step_helpers.py``) sit beside this file, which is on ``sys.path``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["MOLDOJO_CACHE_DIR"] = str(tmp_path_factory.mktemp("moldojo-cache"))
