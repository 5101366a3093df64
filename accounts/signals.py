"""Signals for the apps above accounts (imports run one way: notifications imports
accounts, never back). Sent inside the transaction of the action, so a receiver's
writes (a notification) commit or roll back with it."""

from __future__ import annotations

from django.dispatch import Signal

# A person claimed to work for a company: kwargs `claim` (the unconfirmed CompanyMember).
company_claimed = Signal()
# A claim was confirmed, rejected or withdrawn: kwargs `claim_id`.
company_claim_settled = Signal()
