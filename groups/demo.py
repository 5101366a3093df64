"""Demo groups (filled in by the groups issue)."""


def seed_groups() -> None:
    """Create the starter groups once."""
