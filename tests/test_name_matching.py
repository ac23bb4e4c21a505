"""Names that forgive case, accents and typos, and a write that never guesses.

A command names a contact through the lazy Finder (touch, history) or the whole
Directory (balance): both are checked, as both must resolve the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from support import Runner

DAY = "2026-11-25"
AT = ("--today", DAY)
ON = ("--on", DAY)


def meet(run: Runner, *names: str) -> dict[str, dict[str, Any]]:
    run.ok("init")
    return {n: run.json("meet", n, "--on", "2026-11-01", *AT)["recorded"]["contact"] for n in names}


def touched(run: Runner, ref: str) -> str:
    """The id of the contact `touch REF` recorded for."""
    contact_id: str = run.json("touch", ref, *ON, *AT)["recorded"]["contact"]["id"]
    return contact_id


def found(run: Runner, ref: str) -> tuple[str, str]:
    """The contact `history REF` (Finder) and `balance REF` (Directory) read."""
    by_finder = run.json("history", ref, *AT)["contact"]["id"]
    (row,) = run.json("balance", ref, *AT)["contacts"]
    return by_finder, row["contact"]["id"]


def kinds(run: Runner, contact: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in run.json("history", contact["short"], *AT)["events"]]


def test_case_and_accents_fold_away(run: Runner) -> None:
    c = meet(run, "Zoë Müller", "Ünal Demir", "Grace Hopper")
    zoe, unal = c["Zoë Müller"]["id"], c["Ünal Demir"]["id"]
    for ref, want in (("zoe", zoe), ("MÜLLER", zoe), ("muller", zoe), ("zoe  MULLER", zoe), ("unal", unal)):
        assert found(run, ref) == (want, want), ref
        assert touched(run, ref) == want, ref
    # the folded spelling is the same name: meeting it again asks for --new
    assert "Zoë Müller" in run.fails("meet", "Zoe Muller", *ON, *AT)


def test_an_unknown_name_lists_the_closest_names(
    run: Runner, home: Path, state: Callable[[Path], Any]
) -> None:
    c = meet(run, "Ada Lovelace", "Grace Hopper", "Alan Kay")
    ada = f"Ada Lovelace ({c['Ada Lovelace']['short']})"
    before = state(home)
    for command in ("touch", "history", "balance"):
        error = run.fails(command, "Ada Lovelance", *AT)
        assert f"unknown contact 'Ada Lovelance' (did you mean: {ada}?)" in error, error
    error = run.fails("touch", "lovleace", *ON, *AT)  # a typo in one word of the name
    assert ada in error and "Grace Hopper" not in error and "Alan Kay" not in error
    assert "did you mean" not in run.fails("touch", "Qwertyuiop", *ON, *AT)  # nothing alike
    assert state(home) == before


def test_one_or_two_letters_never_pick_a_contact_by_a_prefix(
    run: Runner, home: Path, state: Callable[[Path], Any]
) -> None:
    c = meet(run, "Ada Lovelace", "Alan Kay", "Grace Hopper")
    before = state(home)
    error = run.fails("touch", "a", *ON, *AT)
    assert "'a' is too short to choose a contact" in error
    assert f"Ada Lovelace ({c['Ada Lovelace']['short']})" in error
    assert f"Alan Kay ({c['Alan Kay']['short']})" in error and "Grace" not in error
    # one contact only starts with "gr": still not a guess, for a write or a read
    assert "Grace Hopper" in run.fails("touch", "gr", *ON, *AT)
    assert "too short" in run.fails("history", "gr", *AT)
    assert "too short" in run.fails("balance", "gr", *AT)
    assert state(home) == before
    assert all(kinds(run, contact) == ["met"] for contact in c.values())
    # three letters are a prefix again
    assert touched(run, "gra") == c["Grace Hopper"]["id"]


def test_a_short_whole_word_of_one_name_resolves(run: Runner) -> None:
    c = meet(run, "Al Gore", "Alan Kay", "Bo", "Jo Ng", "Li Ng")
    gore = c["Al Gore"]["id"]
    assert touched(run, "Al") == gore  # a whole word of Al Gore's name; only a prefix of Alan's
    assert found(run, "al") == (gore, gore)
    assert touched(run, "bo") == c["Bo"]["id"]  # the whole name
    assert touched(run, "Jo") == c["Jo Ng"]["id"]
    error = run.fails("touch", "ng", *ON, *AT)  # a whole word of two names: listed
    assert "too short" in error and c["Jo Ng"]["short"] in error and c["Li Ng"]["short"] in error


def test_a_name_longer_than_the_name_index_holds_is_met_once(run: Runner) -> None:
    name = "Maximilian Alexander von Hohenzollern-Sigmaringen"
    (first,) = meet(run, name).values()
    assert first["short"] in run.fails("meet", name.upper(), *ON, *AT)
    assert touched(run, name.lower()) == first["id"]
