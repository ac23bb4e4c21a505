"""A small sample network, dated relative to the store's today."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from syncnet.app.network import Network
from syncnet.domain import commands as c
from syncnet.domain.config import Target, url_problem, without_userinfo
from syncnet.errors import BadInput
from syncnet.storage.store import store_exists


def scratch_home() -> Path:
    """The one directory the demo uses when not told where: replaced at every run."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("syncnet", appauthor=False)) / "demo"


def demo_target(url: str, user: str) -> Target:
    """The demo's CalDAV target: a calendar "syncnet-demo" under `url` (or `url` itself).
    Asked for before anything is written: a URL its config would be refused for is
    refused here, and one holding a password never reaches a file. The URL is not quoted."""
    problem = url_problem(url)
    if problem == "userinfo":
        raise BadInput("--caldav-url holds a user name or password (user:password@): remove it and set "
                       "SYNCNET_DEMO_USER and SYNCNET_DEMO_PASSWORD")  # fmt: skip
    if problem == "host" or not url.startswith(("http://", "https://")):
        raise BadInput("--caldav-url must be an http:// or https:// URL whose host and port can be read")
    return Target("demo", "caldav", url=url, calendar="syncnet-demo", user=user)


def write_demo_config(home: Path, target: Target) -> None:
    """The demo's config names its target, so that the next demo can find and remove the
    reminders this one pushes, whatever URL the next one is given."""
    def value(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string

    lines = [f"[targets.{target.name}]", 'type = "caldav"', f"url = {value(target.url)}",
             f"calendar = {value(target.calendar)}"]  # fmt: skip
    if target.user:
        lines.append(f"user = {value(target.user)}")
    (home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def replace_scratch_home(home: Path, sync: Callable[..., Any], warn: Callable[[str], None]) -> None:
    """Remove the previous demo: first the reminders it pushed (only those it wrote,
    through the sync engine, so a user's item is never touched), then its files."""
    if store_exists(home):
        with Network.open(home, home / "config.toml") as old:
            for target in old.config.targets:
                outcome = sync(old, target, retract=True)
                if outcome.error is not None:
                    where = without_userinfo(target.url)
                    warn(f"the previous demo's reminders stay in {where}: {outcome.error}")
    if home.exists():
        shutil.rmtree(home)
    home.parent.mkdir(parents=True, exist_ok=True)


def build_demo(net: Network) -> int:
    """Record a year of networking; returns the number of facts."""
    t = net.today()

    def ago(days: int) -> date:
        return t - timedelta(days=days)

    plan: list[c.Command] = [
        c.GoalAdd("Lead a data team", "career", on=ago(400)),
        c.Meet(
            "Ada Lovelace",
            "conference",
            "role-model",
            "PyCon",
            ("Lead a data team",),
            45,
            on=ago(300),
            note="Talked about analytical engines",
        ),
        c.Touch("Ada Lovelace", "me", "email", 10, on=ago(298)),
        c.Give("Ada Lovelace", "information", minutes=20, on=ago(200)),
        c.Cadence("Ada Lovelace", 42, on=ago(200)),
        c.Meet("Grace Hopper", "workshop", "complement", "Compiler workshop", minutes=60, on=ago(250)),
        c.Receive("Grace Hopper", "advice", minutes=30, on=ago(240)),
        c.Touch("Grace Hopper", "them", "phone", 20, on=ago(120)),
        c.Meet("Alan Turing", "alumni", "commonality", on=ago(180)),
        c.Ask("Alan Turing", "A referral to his team", on=ago(170)),
        c.Meet("Katherine Johnson", "networking-event", "role-model", on=ago(60)),
        c.Touch("Katherine Johnson", "me", "message", on=ago(58)),
        c.Give("Katherine Johnson", "introduction", "Grace Hopper", 15, on=ago(40)),
        c.Promise("Katherine Johnson", "Send the orbital mechanics paper", t + timedelta(days=5), on=ago(10)),
        c.Meet("Linus Torvalds", "professional-network", on=ago(150)),
        c.Pocket("Linus Torvalds", False, on=ago(100)),
        c.Meet("Margaret Hamilton", "conference", "role-model", "Space summit", minutes=30, on=ago(2)),
        c.Promise("Margaret Hamilton", "Share the slides", ago(1), on=ago(2)),
        c.Pitch(None, 10, on=ago(30), note="Lightning talk on data quality"),
        c.Meet("Barbara Liskov", "club", "complement", on=ago(5)),
    ]
    return len(net.record_many(plan))
