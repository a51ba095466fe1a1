"""servin_core._dataclass behaves as the standard library's dataclasses do
for what Servin uses: each case defines the same class with both decorators
and expects the same answers."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from servin_core import _dataclass


def _both(**options: Any) -> list[type]:
    """The class Point, once per implementation."""
    made = []
    for module in (dataclasses, _dataclass):

        class Point:
            """A point with a label and tags."""

            x: int
            y: int = 0
            label: str = "origin"
            tags: list[str] = module.field(default_factory=list)

        made.append(module.dataclass(**options)(Point))
    return made


@pytest.mark.parametrize(
    "options",
    [{}, {"frozen": True}, {"slots": True}, {"frozen": True, "slots": True}],
    ids=["plain", "frozen", "slots", "frozen-slots"],
)
def test_construction_repr_and_equality_match_the_standard_library(
    options: dict[str, Any],
) -> None:
    stdlib, ours = _both(**options)
    for cls in (stdlib, ours):
        a = cls(1, label="a")
        assert (a.x, a.y, a.label, a.tags) == (1, 0, "a", [])
        assert a == cls(1, 0, "a", [])
        assert a != cls(2, label="a")
        assert cls(1).tags is not cls(1).tags  # a new list for each instance
        assert a.__eq__(object()) is NotImplemented
    assert repr(ours(1, 2, "p", ["t"])) == repr(stdlib(1, 2, "p", ["t"]))
    assert [f.name for f in _dataclass.fields(ours)] == ["x", "y", "label", "tags"]
    assert _dataclass.is_dataclass(ours) and _dataclass.is_dataclass(ours(1))
    assert not _dataclass.is_dataclass(object())


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        ((1, 2, "a", [], 5), {}),
        ((1,), {"x": 2}),
        ((1,), {"z": 2}),
        ((), {"y": 2}),
    ],
    ids=["missing", "too-many", "twice", "unknown", "missing-with-keyword"],
)
def test_a_wrong_call_fails_with_the_standard_librarys_message(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    stdlib, ours = _both()
    with pytest.raises(TypeError) as expected:
        stdlib(*args, **kwargs)
    with pytest.raises(TypeError) as got:
        ours(*args, **kwargs)
    assert str(got.value) == str(expected.value)


def test_missing_arguments_are_all_named() -> None:
    @_dataclass.dataclass
    class Three:
        a: int
        b: int
        c: int

    with pytest.raises(
        TypeError, match="missing 2 required positional arguments: 'b' and 'c'"
    ):
        Three(1)  # type: ignore[call-arg]


def test_frozen_instances_refuse_changes_and_hash_by_value() -> None:
    _, ours = _both(frozen=True, slots=True)
    point = ours(1, tags=("t",))
    with pytest.raises(_dataclass.FrozenInstanceError, match="'x'"):
        point.x = 2
    with pytest.raises(AttributeError):
        del point.y
    assert hash(point) == hash(ours(1, tags=("t",)))
    assert not hasattr(point, "__dict__")
    assert copy.copy(point) == point


@_dataclass.dataclass(frozen=True, slots=True)
class Pickled:
    name: str
    size: int = 0


def test_frozen_slotted_instances_pickle_and_copy() -> None:
    item = Pickled("a", 3)
    assert pickle.loads(pickle.dumps(item)) == item
    assert copy.deepcopy(item) == item


def test_mutable_instances_are_unhashable_and_can_change() -> None:
    _, ours = _both()
    point = ours(1)
    point.x = 5
    assert point.x == 5
    with pytest.raises(TypeError, match="unhashable"):
        hash(point)


def test_eq_false_keeps_identity() -> None:
    @_dataclass.dataclass(frozen=True, eq=False)
    class Handle:
        name: str

    first, second = Handle("a"), Handle("a")
    assert first != second
    assert len({first, second}) == 2


def test_order_compares_field_by_field() -> None:
    @_dataclass.dataclass(frozen=True, order=True)
    class Version:
        major: int
        minor: int

    assert sorted([Version(1, 2), Version(0, 9), Version(1, 0)]) == [
        Version(0, 9),
        Version(1, 0),
        Version(1, 2),
    ]
    assert Version(1, 0) <= Version(1, 0) < Version(1, 1)


def test_replace_builds_a_new_instance_and_checks_names() -> None:
    _, ours = _both(frozen=True)
    point = ours(1, label="a")
    moved = _dataclass.replace(point, y=3)
    assert (moved.x, moved.y, moved.label) == (1, 3, "a")
    assert point.y == 0
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        _dataclass.replace(point, z=1)


def test_fields_of_a_base_class_come_first_and_can_be_overridden() -> None:
    @_dataclass.dataclass
    class Base:
        a: int
        b: str = "base"

    @_dataclass.dataclass
    class Child(Base):
        c: float = 0.5
        b: str = "child"

    assert [f.name for f in _dataclass.fields(Child)] == ["a", "b", "c"]
    child = Child(1)
    assert (child.a, child.b, child.c) == (1, "child", 0.5)


def test_post_init_runs_after_the_fields_are_set() -> None:
    seen = []

    @_dataclass.dataclass
    class Checked:
        size: int

        def __post_init__(self) -> None:
            seen.append(self.size)

    Checked(4)
    assert seen == [4]


def test_field_metadata_and_defaults_are_readable() -> None:
    @_dataclass.dataclass
    class Setting:
        level: int = _dataclass.field(default=3, metadata={"low": 1})
        plain: int = 7

    level, _ = _dataclass.fields(Setting)
    assert level.metadata["low"] == 1 and level.default == 3 and level.init
    assert Setting.plain == 7  # a default stays a class attribute
    assert Setting().level == 3


def test_a_mutable_default_or_a_required_field_after_a_default_is_refused() -> None:
    with pytest.raises(ValueError, match="mutable default"):

        @_dataclass.dataclass
        class Shared:
            items: list[int] = []

    with pytest.raises(TypeError, match="non-default argument 'b'"):

        @_dataclass.dataclass
        class Backwards:
            a: int = 1
            b: int  # type: ignore[misc]


def test_a_slotted_subclass_adds_only_its_own_slots() -> None:
    @_dataclass.dataclass(frozen=True, slots=True)
    class Base:
        a: int

    @_dataclass.dataclass(frozen=True, slots=True)
    class Child(Base):
        b: int = 2

    child = Child(1)
    assert Child.__slots__ == ("b",)
    assert (child.a, child.b) == (1, 2)
    assert child == Child(1, 2) and child != Child(1, 3)
