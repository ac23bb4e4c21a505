"""The configuration: defaults, the documented example, and clear errors."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from syncnet.domain.config import NORTH_SEASONS, SOUTH_SEASONS, Config, parse_config
from syncnet.errors import ConfigError
from syncnet.storage.configfile import load_config

ROOT = Path(__file__).resolve().parent.parent


def test_example_documents_exactly_the_defaults() -> None:
    example = parse_config(tomllib.loads((ROOT / "config.example.toml").read_text()))
    assert replace(example, source="") == replace(Config(), source="")


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert config.followup_days == 3
    assert config.seasons == NORTH_SEASONS
    assert (config.split.give, config.split.self, config.split.ask) == (70, 20, 10)


def test_southern_hemisphere_and_overrides() -> None:
    config = parse_config(
        {"rules": {"hemisphere": "south", "followup_days": 2}, "seasons": {"summer": [11, 1]}}
    )
    assert config.followup_days == 2
    assert config.seasons["summer"] == (11, 1)
    assert config.seasons["spring"] == SOUTH_SEASONS["spring"]


def test_float_option_accepts_an_integer() -> None:
    assert parse_config({"warnings": {"reacting_share": 1}}).warnings.reacting_share == 1.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": {"followup_days": "x"}}, "followup_days"),
        ({"rules": {"followup_days": -1}}, "followup_days"),
        ({"rules": {"hemisphere": "east"}}, "hemisphere"),
        ({"seasons": {"winter": [12, 2]}}, "unknown season"),
        ({"seasons": {"spring": [3]}}, "seasons.spring"),
        ({"seasons": {"spring": [0, 5]}}, "seasons.spring"),
        ({"split": {"give": 80}}, "add up to 100"),
        ({"split": {"window_days": 0}}, "window_days"),
        ({"minutes": {"touch": "ten"}}, "minutes.touch"),
        ({"minutes": {"coffee": 5}}, "unknown option minutes.coffee"),
        ({"general": {"timezone": "Mars/Olympus"}}, "time zone"),
        ({"bogus": {}}, "unknown section"),
        ({"rules": []}, "must be a table"),
    ],
)
def test_bad_values_are_one_line_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(data)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_unreadable_toml_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[rules\nfollowup_days = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
