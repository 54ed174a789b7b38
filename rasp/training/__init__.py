"""Training transformers on RASP programs (docs/training.md).

Needs the optional extra: pip install "rasp[train]" (JAX and optax). `import rasp` never
imports this package; `require_jax()` turns a missing extra into a RaspError.
"""

from __future__ import annotations

from ..errors import RaspError


class TrainError(RaspError):
    category = "train error"


def require_jax() -> None:
    """A TrainError naming the extra when JAX or optax is not installed."""
    try:
        import jax  # noqa: F401
        import optax  # noqa: F401
    except ImportError as missing:
        raise TrainError(f"training needs JAX and optax ({missing.name} is not installed)",
                         hint='pip install "rasp[train]"') from None
