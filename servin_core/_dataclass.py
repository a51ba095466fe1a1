"""Dataclasses that cost nothing to define: the standard library's subset
Servin uses, with no code generated when a class is made.

The standard ``dataclasses`` module writes each class's ``__init__``,
``__repr__``, ``__eq__``, ``__hash__`` and, for frozen classes,
``__setattr__`` and ``__delattr__`` as source text and compiles it with
``exec`` when the class is defined; it also imports ``inspect``. A command
line run defines a few dozen such classes before it starts a container, and
that compiling was about a quarter of its imports (0.5 ms a class, twice that
for a frozen one); the bytecode cache cannot keep it. Here the methods are
shared functions that read the class's fields from a table, made once per
class with no compiling. Building an instance costs about the same: one
dictionary update for a class without slots (faster than the generated
code), a loop over the fields for one with slots (slower).

What is kept from the standard library: ``@dataclass`` with ``frozen``,
``eq``, ``order`` and ``slots``; fields from the class's annotations in
definition order, base classes' first; ``field(default=...,
default_factory=..., metadata=...)``; ``__post_init__``; ``fields``,
``replace`` and ``is_dataclass``; ``FrozenInstanceError``; and the
messages of a wrong call (``X.__init__() missing 1 required positional
argument: 'name'``). What is left out, because nothing here uses it:
``InitVar``, ``ClassVar`` fields, ``KW_ONLY``, ``init=False`` and the
``repr``/``compare``/``hash`` flags of a field, ``unsafe_hash``, ``asdict``
and ``__match_args__``. One difference: a frozen class refuses every
attribute, where the standard library lets a subclass's instance set names
that are not fields. mypy reads the decorator as a dataclass through
``dataclass_transform`` (PEP 681).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from typing import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda decorator: decorator


__all__ = [
    "FrozenInstanceError",
    "dataclass",
    "field",
    "fields",
    "is_dataclass",
    "replace",
]

T = TypeVar("T")

_FIELDS = "__servin_fields__"
"""The class attribute holding a dataclass's ``Field`` tuple."""


class FrozenInstanceError(AttributeError):
    """An attribute of a frozen dataclass's instance was set or deleted."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Field:
    """One field of a dataclass: its name and hint and how it gets a value."""

    __slots__ = ("default", "default_factory", "metadata", "name", "type")

    def __init__(
        self,
        default: Any = MISSING,
        default_factory: Any = MISSING,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.metadata = _EMPTY if metadata is None else MappingProxyType(dict(metadata))

    @property
    def init(self) -> bool:
        """Always true: every field is an argument of ``__init__``."""
        return True

    def __repr__(self) -> str:
        return (
            f"Field(name={self.name!r}, type={self.type!r}, default={self.default!r})"
        )


@overload
def field(*, default: T, metadata: Mapping[str, Any] | None = None) -> T: ...


@overload
def field(
    *, default_factory: Callable[[], T], metadata: Mapping[str, Any] | None = None
) -> T: ...


@overload
def field(*, metadata: Mapping[str, Any] | None = None) -> Any: ...


def field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    """A field's default, or the function that makes one for each instance,
    and metadata for whoever reads the fields."""
    return Field(default, default_factory, metadata)


@overload
def dataclass(cls: type[T], /) -> type[T]: ...


@overload
def dataclass(
    *,
    frozen: bool = False,
    eq: bool = True,
    order: bool = False,
    slots: bool = False,
) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(field, Field))
def dataclass(
    cls: type[T] | None = None,
    /,
    *,
    frozen: bool = False,
    eq: bool = True,
    order: bool = False,
    slots: bool = False,
) -> Any:
    """Make ``cls`` a dataclass, as the standard library's decorator does."""

    def wrap(cls: type[T]) -> type[T]:
        return _process(cls, frozen=frozen, eq=eq, order=order, slots=slots)

    return wrap if cls is None else wrap(cls)


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a dataclass or of its instance, in order."""
    try:
        found: tuple[Field, ...] = getattr(obj, _FIELDS)
    except AttributeError:
        raise TypeError("must be called with a dataclass type or instance") from None
    return found


def is_dataclass(obj: Any) -> bool:
    """Whether ``obj`` is a dataclass or an instance of one."""
    cls = obj if isinstance(obj, type) else type(obj)
    return hasattr(cls, _FIELDS)


def replace(obj: T, /, **changes: Any) -> T:
    """A new instance like ``obj`` with the fields in ``changes`` changed."""
    for f in fields(obj):
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


def _process(
    cls: type[T], *, frozen: bool, eq: bool, order: bool, slots: bool
) -> type[T]:
    own = _own_fields(cls)
    inherited: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in getattr(base, _FIELDS, ()):
            inherited[f.name] = f
    for f in own:
        # A field named again keeps its place among the base's fields.
        inherited[f.name] = f
    every = tuple(inherited.values())
    names = tuple(f.name for f in every)
    _check_order_of_defaults(every)

    methods: dict[str, Any] = {
        _FIELDS: every,
        "__init__": _make_init(
            cls.__qualname__, every, getattr(cls, "__post_init__", None), slots
        ),
    }
    if "__repr__" not in cls.__dict__:
        methods["__repr__"] = _make_repr(names)
    key = _key(names)
    if eq:
        if "__eq__" not in cls.__dict__:
            methods["__eq__"] = _make_eq(key)
        if frozen:
            methods["__hash__"] = _make_hash(key)
        elif "__hash__" not in cls.__dict__:
            methods["__hash__"] = None
    if order:
        for name, compare in _ORDER.items():
            methods[name] = _make_order(key, compare)
    if frozen:
        methods["__setattr__"] = _frozen_setattr
        methods["__delattr__"] = _frozen_delattr

    if slots:
        # Slots need a new class: they are fixed when a class is made, and a
        # slot cannot share its name with a class attribute (the default).
        body = {
            name: value
            for name, value in cls.__dict__.items()
            if name not in names and name not in ("__dict__", "__weakref__")
        }
        inherited_slots = {slot for base in cls.__mro__[1:] for slot in _slots_of(base)}
        body.update(
            methods, __slots__=tuple(n for n in names if n not in inherited_slots)
        )
        if frozen:
            body["__getstate__"] = _slots_getstate
            body["__setstate__"] = _slots_setstate
        metaclass: Any = type(cls)
        made: type[T] = metaclass(cls.__name__, cls.__bases__, body)
        made.__qualname__ = cls.__qualname__
        return made
    for f in own:
        # A default stays a class attribute, as the standard library leaves
        # it; a Field object given there does not.
        if isinstance(cls.__dict__.get(f.name), Field):
            if f.default is MISSING:
                delattr(cls, f.name)
            else:
                setattr(cls, f.name, f.default)
    for name, value in methods.items():
        setattr(cls, name, value)
    return cls


def _slots_of(cls: type) -> tuple[str, ...]:
    slots = cls.__dict__.get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _check_order_of_defaults(every: tuple[Field, ...]) -> None:
    seen_default = False
    for f in every:
        if f.default is not MISSING or f.default_factory is not MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")


def _own_fields(cls: type) -> tuple[Field, ...]:
    own = []
    # Not inspect.get_annotations: importing inspect is what this module saves.
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    for name, hint in annotations.items():
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        if isinstance(f.default, (list, dict, set)):
            raise ValueError(
                f"mutable default {type(f.default)} for field {name} "
                "is not allowed: use default_factory"
            )
        f.name = name
        f.type = hint
        own.append(f)
    return tuple(own)


def _make_init(
    qualname: str,
    every: tuple[Field, ...],
    post_init: Callable[[Any], None] | None,
    slots: bool,
) -> Any:
    names = tuple(f.name for f in every)
    count = len(names)
    known = frozenset(names)
    defaults = {f.name: f.default for f in every if f.default is not MISSING}
    factories = tuple(
        (f.name, f.default_factory) for f in every if f.default_factory is not MISSING
    )
    required = count - len(defaults) - len(factories)
    set_ = object.__setattr__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if slots and len(args) == count and not kwargs:
            # Every field by position (a record read from a row or a line):
            # nothing to look up.
            for name, value in zip(names, args, strict=True):
                set_(self, name, value)
            if post_init is not None:
                post_init(self)
            return
        if args:
            kwargs = _by_name(qualname, names, required, args, kwargs)
        if not known.issuperset(kwargs):
            unknown = next(name for name in kwargs if name not in known)
            raise TypeError(
                f"{qualname}.__init__() got an unexpected keyword argument {unknown!r}"
            )
        values = {**defaults, **kwargs}
        for name, factory in factories:
            if name not in kwargs:
                values[name] = factory()
        if len(values) != count:
            _missing(qualname, [name for name in names if name not in values])
        if slots:
            for name, value in values.items():
                set_(self, name, value)
        else:
            # Straight into the instance's dictionary, as a frozen class's
            # own __setattr__ would refuse.
            self.__dict__.update(values)
        if post_init is not None:
            post_init(self)

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


def _by_name(
    qualname: str,
    names: tuple[str, ...],
    required: int,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> dict[str, Any]:
    """The positional ``args`` added to ``kwargs`` under their fields' names."""
    if len(args) > len(names):
        _too_many(qualname, len(names), required, len(args))
    for name in names[: len(args)]:
        if name in kwargs:
            raise TypeError(
                f"{qualname}.__init__() got multiple values for argument {name!r}"
            )
    return {**dict(zip(names, args, strict=False)), **kwargs}


def _too_many(qualname: str, count: int, required: int, given: int) -> None:
    takes = (
        f"{count + 1}" if required == count else f"from {required + 1} to {count + 1}"
    )
    raise TypeError(
        f"{qualname}.__init__() takes {takes} positional arguments "
        f"but {given + 1} were given"
    )


def _missing(qualname: str, missing: list[str]) -> None:
    quoted = [repr(name) for name in missing]
    listed = (
        quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    )
    plural = "argument" if len(missing) == 1 else "arguments"
    raise TypeError(
        f"{qualname}.__init__() missing {len(missing)} required positional "
        f"{plural}: {listed}"
    )


def _key(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda _: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    many: Callable[[Any], tuple[Any, ...]] = attrgetter(*names)
    return many


def _make_repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({shown})"

    return __repr__


def _make_eq(key: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return __eq__


def _make_hash(key: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __hash__


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "__lt__": lambda a, b: a < b,
    "__le__": lambda a, b: a <= b,
    "__gt__": lambda a, b: a > b,
    "__ge__": lambda a, b: a >= b,
}


def _make_order(
    key: Callable[[Any], tuple[Any, ...]], compare: Callable[[Any, Any], bool]
) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compare(key(self), key(other))
        return NotImplemented

    return method


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _slots_getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in fields(self)]


def _slots_setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(fields(self), state, strict=True):
        object.__setattr__(self, f.name, value)
