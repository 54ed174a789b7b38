"""rasp: an interpreter and REPL for RASP, the language of "Thinking Like Transformers".

    import rasp
    session = rasp.Session()
    session.run('hist = selector_width(select(tokens, tokens, ==));')
    session["hist"]("hello")    # hist("hello") = [1, 1, 2, 2, 1]  ints
    rasp.analyse(session["hist"])
    rasp.compile(session["hist"])  # a transformer, verified against the interpreter

See rasp/api.py and the README's "Use from Python".
"""

__version__ = "0.1.0"

__all__ = ["RaspError", "Session", "__version__", "analyse", "check_raspl", "compile", "learn", "load_model",
           "train"]


def __dir__() -> list[str]:
    """The lazily imported API too (`dir(rasp)` lists Session, analyse, compile, RaspError)."""
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str):
    # Imported on first use, so that `rasp --version` does not load NumPy.
    if name == "Session":
        from .api import Session  # rasp.interpreter.Session with a Python face (rasp/api.py)

        return Session
    if name == "analyse":
        from .api import analyse

        return analyse
    if name == "check_raspl":
        from .api import check_raspl

        return check_raspl
    if name == "compile":
        from .api import compile

        return compile
    if name == "load_model":
        from .api import load_model  # .npz, .safetensors, .onnx (rasp/compiler/export.py)

        return load_model
    if name == "train":
        from .api import train  # JAX only when called (rasp/training, docs/training.md)

        return train
    if name == "learn":
        from .api import learn  # JAX only when it learns (rasp/learning, docs/learning.md)

        return learn
    if name == "RaspError":
        from .errors import RaspError

        return RaspError
    raise AttributeError(f"module 'rasp' has no attribute {name!r}")
