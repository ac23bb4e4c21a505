"""Conversation openers for `syncnet prep` (docs/rules.md, "Preparing for an event"): the
guide's advice in the project's own words. Ask about the other person's work and plans,
follow up on what was said last time, and always ask how you could support them. Pure."""

from __future__ import annotations

import hashlib

# About the other person: their work, their plans, what the event gives them.
ABOUT_THEM = (
    "What are you working on at the moment?",
    "What brought you to this event?",
    "Which talk has stayed with you so far, and why?",
    "What do you hope to take home from today?",
    "What is the next big step in your work?",
    "What inspired you most here?",
    "How did you get into what you do?",
    "What problem would you love to have solved by the end of the year?",
)
# Always asked: giving comes first (docs/rules.md, "Give first, then take").
SUPPORT = "How could I support you with that?"
TOPIC_SHOWN = 60  # characters of an earlier note an opener quotes


def _pick(seed: str, count: int, avoid: int = -1) -> list[str]:
    """`count` different openers about them, chosen by `seed`: the same briefing each time."""
    start = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big")
    out: list[str] = []
    for i in range(len(ABOUT_THEM)):
        if len(out) == count:
            break
        n = (start + i) % len(ABOUT_THEM)
        if n != avoid:
            out.append(ABOUT_THEM[n])
    return out


def openers(seed: str, last_topic: str | None) -> list[str]:
    """Three openers: a follow-up on what was said last time (when a note says it), else
    one about their work; one more about their work or plans; and the support question."""
    about = _pick(seed, 2)
    if last_topic:
        topic = " ".join(last_topic.split())
        if len(topic) > TOPIC_SHOWN:
            topic = topic[: TOPIC_SHOWN - 1].rstrip() + "…"
        return [f"Last time we talked about “{topic}”: how has it gone since?", about[0], SUPPORT]
    return [*about, SUPPORT]
