"""Learning transformer programs from data and decompiling them into RASP (docs/learning.md).

The model and its training need the optional extra `rasp[train]` (JAX and optax), like
rasp/training/; `import rasp` never imports this package. `program.py` (the discrete
program and its reference evaluation) needs only NumPy.
"""

from __future__ import annotations

from ..errors import RaspError


class LearnError(RaspError):
    category = "learn error"
