"""Notifications about things of apps below this one (accounts), which cannot call
`do_notify` themselves: they send a signal inside their transaction, and these
receivers store the notification in that same transaction."""

from __future__ import annotations

from typing import Any

from accounts.models import CompanyMember
from notifications.actions import do_mark_handled, do_notify


def notify_company_admins(*, claim: CompanyMember, **_: Any) -> None:
    """Someone says they work for a company: every confirmed, active admin of that
    company is told (kind `company_claim`), once per claim."""
    company = claim.company
    admins = (
        CompanyMember.objects.filter(
            company=company,
            role=CompanyMember.Role.ADMIN,
            confirmed=True,
            user__is_active=True,
        )
        .exclude(user_id=claim.user_id)
        .select_related("user")
    )
    data = {
        "company": {"slug": company.slug, "name": company.name},
        "claim_id": claim.pk,
        "person": {"id": claim.user_id, "display_name": claim.user.display_name},
        "responsibility": claim.responsibility,
        "url": f"/unternehmen/{company.slug}/#offene-zuordnungen",
    }
    for admin in admins:
        do_notify(
            recipient=admin.user,
            kind="company_claim",
            data=data,
            dedupe_key=f"company_claim:{claim.pk}",
        )


def settle_company_claim(*, claim_id: int, **_: Any) -> None:
    do_mark_handled(dedupe_keys=[f"company_claim:{claim_id}"])
