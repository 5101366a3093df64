"""Demo people and companies (filled in by the foundation issue)."""


def seed_accounts() -> list[tuple[str, str]]:
    """Create the demo people and companies once; return the demo logins."""
    return []
