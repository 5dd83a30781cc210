"""The exports' atomic file: whole or nothing, owner-only, never over a file when asked not to."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_desk.services.exports import atomic_file, leftover_temps


def test_the_file_appears_whole_and_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "codes.csv"
    with atomic_file(target, tag="batch7") as temp:
        assert temp.name.startswith(".codes.csv.batch7.") and temp.name.endswith(".part")
        temp.write_text("code\n")
        assert not target.exists() and leftover_temps(target, "batch7") == [temp]
    assert target.read_text() == "code\n" and target.stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir()] == ["codes.csv"]


def test_an_error_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "codes.csv"
    with pytest.raises(RuntimeError), atomic_file(target) as temp:
        temp.write_text("half")
        raise RuntimeError("cancelled")
    assert list(tmp_path.iterdir()) == []


def test_replace_false_never_writes_over_a_file(tmp_path: Path) -> None:
    target = tmp_path / "codes.csv"
    target.write_text("live codes")
    with pytest.raises(FileExistsError), atomic_file(target, replace=False) as temp:
        temp.write_text("new codes")
    assert target.read_text() == "live codes" and [p.name for p in tmp_path.iterdir()] == ["codes.csv"]
    with atomic_file(target) as temp:  # the default replaces, as every other export always did
        temp.write_text("new list")
    assert target.read_text() == "new list"


def test_leftover_temps_are_those_of_the_tag_only(tmp_path: Path) -> None:
    target = tmp_path / "codes.csv"
    for name in (".codes.csv.batch1.x1.part", ".codes.csv.batch12.x2.part", ".codes.csv.batch1.x3", "codes.csv"):
        (tmp_path / name).write_text("")
    assert [p.name for p in leftover_temps(target, "batch1")] == [".codes.csv.batch1.x1.part"]
    assert leftover_temps(tmp_path / "gone" / "codes.csv", "batch1") == []
