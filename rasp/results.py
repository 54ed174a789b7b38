"""What running a statement produces: values to show, problems, requests.

The interpreter returns these and never prints; rasp.display turns them into
text and rasp.cli into JSON Lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import RaspError

if TYPE_CHECKING:  # type checkers read these as the dataclasses they behave as
    from dataclasses import dataclass, field
else:  # start-up makes them: a light dataclass (rasp.records)
    from .records import field
    from .records import record as dataclass


@dataclass
class EvaluatedSOp:
    """An s-op's value on one input."""

    name: str
    input: Any  # the input as given: a string, list or dict
    tokens: list  # the input's tokens
    values: list  # Python atoms
    type: str  # ints, floats, strings, bools

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:  # the text the REPL shows (rasp.display)
        from .display import DisplayOptions, format_sop

        return format_sop(self, DisplayOptions())

    def _repr_html_(self) -> str:  # Jupyter: the input row over the output row (rasp.html)
        from .html import sop_html

        return sop_html(self)


@dataclass
class EvaluatedSelector:
    """A selector's matrix on one input; rows are query positions."""

    name: str
    input: Any
    tokens: list
    matrix: np.ndarray = field(repr=False)

    def __repr__(self) -> str:  # the text the REPL shows (rasp.display)
        from .display import DisplayOptions, format_selector

        return format_selector(self, DisplayOptions())

    def _repr_html_(self) -> str:  # Jupyter: a heat map of the matrix (rasp.html)
        from .html import selector_html

        return selector_html(self)


@dataclass
class Unevaluated:
    """An s-op or selector shown without evaluation (examples are off)."""

    kind: str  # "s-op" or "selector"
    name: str


@dataclass
class FunctionInfo:
    name: str
    params: list[str]
    builtin: bool = False


@dataclass
class Shown:
    """A value a statement shows under a name.

    value is an atom, a list or dict (whose lazy elements are themselves
    EvaluatedSOp/EvaluatedSelector/Unevaluated), a FunctionInfo, an
    EvaluatedSOp/EvaluatedSelector or an Unevaluated.
    """

    name: str
    value: Any


@dataclass
class Problem:
    """An error (the statement failed) or a warning (it succeeded, but...)."""

    error: RaspError
    warning: bool = False


@dataclass
class ExampleShown:
    """The answer of `show example`."""

    sop_example: Any
    selector_example: Any
    subset: str | None


@dataclass
class ExitRequest:
    pass


@dataclass
class Analysed:
    """The answer of `analyse EXPR`: an analysis.Analysis (layers, heads, MLP nodes)."""

    name: str
    analysis: Any

    def _repr_html_(self) -> str:  # Jupyter: one row per layer (rasp.html)
        from .html import analysis_html

        return analysis_html(self.analysis)

    def __repr__(self) -> str:  # the text the REPL shows (rasp.display)
        from .display import format_result

        return format_result(self)


@dataclass
class Drawn:
    """The answer of `draw(e [, input]);`: where the picture was written."""

    name: str
    path: str  # the self-contained HTML page (inline SVG)
    input: Any  # the input it was drawn on
    layers: int
    dot_path: str | None = None  # the same graph as Graphviz DOT text

    def _repr_html_(self) -> str:  # Jupyter: the picture itself, inline (rasp.html)
        from .html import drawing_html

        return drawing_html(self)


@dataclass
class Compiled:
    """The answer of `compile EXPR ...`: the transformer, how it was verified, the files written.

    model is a rasp.compiler.transformer.Transformer, verification a rasp.compiler.verify.Verification;
    analysis (a rasp.analysis.Analysis, optional) is what the analysis predicts, to compare.
    """

    name: str
    model: Any
    verification: Any
    files: list[str] = field(default_factory=list)
    analysis: Any = None
    onnx_verification: Any = None  # rasp.compiler.export.OnnxVerification, after `verify onnx`
    from_example: list[str] = field(default_factory=list)  # "vocab", "max_len": defaulted from the example
    example: Any = None  # that running example

    @property
    def agrees(self) -> bool:
        """The model (and its ONNX graph, when verified) gave the interpreter's output on every input checked."""
        onnx = self.onnx_verification
        return self.verification.mismatches == 0 and (onnx is None or onnx.mismatches == 0)

    def __repr__(self) -> str:  # the text the REPL shows (rasp.display)
        from .display import format_result

        return format_result(self)

    def _repr_html_(self) -> str:  # Jupyter: a small table of sizes and the verification (rasp.html)
        from .html import compiled_html

        return compiled_html(self)


@dataclass
class TrainedResult:
    """The answer of `train EXPR ...`: the trained model (rasp.training.trainer.Trained) and the files written."""

    name: str
    model: Any
    files: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {**self.model.to_json(), "name": self.name, "files": list(self.files)}

    def __repr__(self) -> str:
        from .display import format_result

        return format_result(self)

    def _repr_html_(self) -> str:  # the figures, then every head beside its selector (rasp/training/page.py)
        from .training.page import heads_html
        from .training.report import trained_html

        return trained_html(self.to_json()) + heads_html(self.model)


Result = Shown | Problem | ExampleShown | ExitRequest | Analysed | Drawn | Compiled | TrainedResult
