"""A light `dataclass` for the classes that start-up creates (the AST, the results).

`record` makes of a class what `dataclasses.dataclass` makes of it for the features these
classes use: fields from the annotations in order (base classes' first), defaults and
`field(default_factory=..., repr=..., compare=...)`, an `__init__` taking the fields by
position or by name, and, unless asked not to, the same `__repr__` and `__eq__` (a class's
own stay; `__hash__` is None with `__eq__`). It does not generate and compile code per
class, which with fifty classes was about 10 ms of `rasp -c 'tokens;'` (docs/performance.md,
"Start-up"). Type checkers are shown `dataclasses.dataclass` instead (the modules import it
under TYPE_CHECKING), so they check the fields as before.
"""

from __future__ import annotations

from dataclasses import MISSING
from typing import Any


class Field:
    """What `dataclasses.field` says about one field."""

    __slots__ = ("name", "default", "default_factory", "repr", "compare")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,  # noqa: A002
                 compare: bool = True) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare

    def has_default(self) -> bool:
        return self.default is not MISSING or self.default_factory is not MISSING

    def value(self) -> Any:
        return self.default_factory() if self.default_factory is not MISSING else self.default


def field(*, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,  # noqa: A002
          compare: bool = True) -> Any:
    return Field(default, default_factory, repr, compare)


def fields(instance_or_class: Any) -> tuple[Field, ...]:
    cls = instance_or_class if isinstance(instance_or_class, type) else type(instance_or_class)
    found: tuple[Field, ...] = getattr(cls, "_record_fields")  # noqa: B009 - set by record()
    return found


def record(cls: type[Any] | None = None, *, repr: bool = True, eq: bool = True) -> Any:  # noqa: A002
    """The decorator, bare (`@record`) or with options (`@record(repr=False, eq=False)`)."""

    def make(cls: type[Any]) -> type[Any]:
        found = {f.name: f for f in getattr(cls, "_record_fields", ())}
        for name in cls.__dict__.get("__annotations__", {}):
            declared = cls.__dict__.get(name, MISSING)
            spec = declared if isinstance(declared, Field) else Field(default=declared)
            spec.name = name
            found[name] = spec  # a field redefined by a subclass keeps its place, as with dataclasses
            if isinstance(declared, Field):
                if spec.default is MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, spec.default)
        specs = tuple(found.values())
        setattr(cls, "_record_fields", specs)  # noqa: B010
        setattr(cls, "__init__", _initialiser(specs))  # noqa: B010
        if repr and "__repr__" not in cls.__dict__:
            setattr(cls, "__repr__", _repr)  # noqa: B010 - a method made here
        if eq and "__eq__" not in cls.__dict__:
            setattr(cls, "__eq__", _eq)  # noqa: B010
            setattr(cls, "__hash__", None)  # noqa: B010 - compared by value and mutable: as a dataclass
        return cls

    return make if cls is None else make(cls)


def _initialiser(specs: tuple[Field, ...]) -> Any:
    names = tuple(f.name for f in specs)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(specs):
            raise TypeError(f"{type(self).__name__}() takes {len(specs)} arguments, not {len(args)}")
        values = dict(zip(names[: len(args)], args, strict=True))
        for spec in specs[len(args):]:
            if spec.name in kwargs:
                values[spec.name] = kwargs.pop(spec.name)
            elif spec.has_default():
                values[spec.name] = spec.value()
            else:
                raise TypeError(f"{type(self).__name__}() is missing the argument {spec.name!r}")
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected or repeated arguments {sorted(kwargs)}")
        self.__dict__.update(values)

    return __init__


def _repr(self: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _compared(self) == _compared(other)


def _compared(instance: Any) -> tuple:
    return tuple(getattr(instance, f.name) for f in fields(instance) if f.compare)
