"""rasp: an interpreter and REPL for RASP, the language of "Thinking Like Transformers".

    import rasp
    session = rasp.Session()
    session.run('hist = selector_width(select(tokens, tokens, ==));')
"""

__version__ = "0.1.0"

__all__ = ["RaspError", "Session", "__version__"]


def __getattr__(name: str):
    # Imported on first use, so that `rasp --version` does not load NumPy.
    if name == "Session":
        from .interpreter import Session

        return Session
    if name == "RaspError":
        from .errors import RaspError

        return RaspError
    raise AttributeError(f"module 'rasp' has no attribute {name!r}")
