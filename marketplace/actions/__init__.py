"""Business operations of the marketplace, verb-named. Each checks access, writes in one transaction and
records an audit entry for every state change."""

from marketplace.actions.deals import (
    accept_offer,
    assign_brokers,
    cancel_deal,
    make_offer,
    open_inquiry,
    request_nda,
    set_milestones,
    sign_nda,
)
from marketplace.actions.listings import create_listing, publish_listing, withdraw_listing
from marketplace.actions.organisations import add_member, create_organization, verify_organization

__all__ = [
    "accept_offer",
    "add_member",
    "assign_brokers",
    "cancel_deal",
    "create_listing",
    "create_organization",
    "make_offer",
    "open_inquiry",
    "publish_listing",
    "request_nda",
    "set_milestones",
    "sign_nda",
    "verify_organization",
    "withdraw_listing",
]
