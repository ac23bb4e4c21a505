"""The words of the domain (docs/rules.md) that commands accept and facts store."""

# The kinds of help (docs/rules.md); "introduction" links two contacts.
HELP_KINDS = ("advice", "introduction", "active", "information", "recommendation")
REASONS = ("commonality", "role-model", "complement")
CHANNELS = (
    "trade-fair", "conference", "networking-event", "alumni", "workshop", "club",
    "celebration", "professional-network", "social-media", "forum", "online-course",
    "mastermind", "email", "phone", "letter", "meeting", "message", "other",
)  # fmt: skip
GOAL_KINDS = ("career", "business", "private")
