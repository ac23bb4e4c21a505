"""The two warnings about the time split (docs/rules.md, "Warnings"): wanting-to-impress
and split-off-target, each at, just below and just above its threshold, and through the
CLI with explicit dates."""

from __future__ import annotations

from datetime import date

import pytest
from support import Runner

from syncnet.domain.config import Config, Warnings, parse_config
from syncnet.domain.projections import TimeSplit
from syncnet.domain.rules import WarningKind
from syncnet.domain.warnings import split_off_target, wanting_to_impress

DAY = date(2026, 11, 30)


def split(give: int, self: int, ask: int) -> TimeSplit:
    return TimeSplit(DAY, DAY, give, self, ask)


@pytest.mark.parametrize(
    ("minutes", "warned"),
    [
        ((70, 30, 0), False),  # self 30 %: its target (20) plus the margin (10), not above it
        ((700, 301, 0), True),  # just above: 30.07 %
        ((71, 29, 0), False),  # just below
        ((35, 15, 0), False),  # 30 % of 50 minutes: fewer than 120 in the window
    ],
)
def test_wanting_to_impress_at_its_edges(minutes: tuple[int, int, int], warned: bool) -> None:
    config = Config(warnings=Warnings(split_min_minutes=100))
    found = wanting_to_impress(split(*minutes), config)
    assert (found is not None) == warned
    if found is not None:
        assert found.kind is WarningKind.WANTING_TO_IMPRESS and "30 %" in found.detail


@pytest.mark.parametrize(
    ("minutes", "warned"),
    [
        ((55, 35, 10), False),  # give 15 points below, self 15 above: at the margin, not beyond
        ((549, 351, 100), True),  # just beyond: give 54.9 %, self 35.1 %
        ((56, 34, 10), False),  # just inside
        ((100, 0, 0), True),  # all give: give +30, self -20, ask -10
        ((0, 0, 0), False),  # no time in the window
    ],
)
def test_split_off_target_at_its_edges(minutes: tuple[int, int, int], warned: bool) -> None:
    config = Config(warnings=Warnings(split_min_minutes=100))
    found = split_off_target(split(*minutes), config)
    assert (found is not None) == warned


def test_split_off_target_names_the_share_to_shift() -> None:
    found = split_off_target(split(100, 0, 0), Config(warnings=Warnings(split_min_minutes=100)))
    assert found is not None
    assert "give 100 % (target 70)" in found.detail and "self 0 % (target 20)" in found.detail
    assert "shift about 20 points of your time from give to self" in found.detail


def test_the_margins_are_configuration() -> None:
    config = parse_config({"warnings": {"impress_margin": 5, "split_margin": 40, "split_min_minutes": 0}})
    assert wanting_to_impress(split(74, 26, 0), config) is not None  # 26 > 20 + 5
    assert split_off_target(split(100, 0, 0), config) is None  # 30 points: inside 40


def test_warnings_through_the_cli(run: Runner) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-11-01")
    T = ("--today", "2026-11-30")
    for day in range(2, 8):  # six talks about myself, 60 minutes each; one piece of advice
        run.ok("pitch", "Ada", "--minutes", "60", "--on", f"2026-11-{day:02d}")
    run.ok("give", "Ada", "--kind", "advice", "--minutes", "30", "--on", "2026-11-08")
    kinds = {w["kind"]: w["detail"] for w in run.json("warnings", *T)["warnings"]}
    assert "wanting-to-impress" in kinds and "split-off-target" in kinds, kinds
    assert "from self to give" in kinds["split-off-target"]
    text = run.ok("warnings", *T).stdout
    assert "wanting-to-impress" in text
    # a month of giving puts it right
    for day in range(9, 30):
        run.ok("give", "Ada", "--kind", "advice", "--minutes", "60", "--on", f"2026-11-{day:02d}")
    kinds = {w["kind"] for w in run.json("warnings", *T)["warnings"]}
    assert not kinds & {"wanting-to-impress", "split-off-target"}, kinds
