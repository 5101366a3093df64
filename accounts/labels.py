"""Words that follow a person's form of address (`User.address_form`, docs/ui.md
"German that fits"): one table for the templates (`role_label`), the notifications
and `static/js/members.js`, which mirrors it."""

from __future__ import annotations

from typing import Any

# Group roles by the person's form of address; unknown or none given: a neutral form.
GROUP_ROLES = {
    "owner": {"frau": "Inhaberin", "herr": "Inhaber", "": "Inhaber:in"},
    "admin": {"frau": "Admin", "herr": "Admin", "": "Admin"},
    "member": {"frau": "Mitglied", "herr": "Mitglied", "": "Mitglied"},
}


def group_role_label(role: str, address_form: Any = "") -> str:
    """ "Inhaberin", "Inhaber" or "Inhaber:in" for `owner`; an unknown role as it is."""
    labels = GROUP_ROLES.get(str(role))
    if labels is None:
        return str(role)
    return labels.get(str(address_form or ""), labels[""])
