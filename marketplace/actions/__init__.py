"""Business operations of the marketplace, verb-named. Each checks access, writes in one transaction and
records an audit entry for every state change."""

from marketplace.actions.accounts import create_api_token, register_user, revoke_api_token
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
from marketplace.actions.demands import close_demand, post_demand
from marketplace.actions.listings import (
    ListingChanges,
    create_listing,
    publish_listing,
    update_listing,
    withdraw_listing,
)
from marketplace.actions.organisations import (
    accept_invitation,
    add_member,
    create_organization,
    invite_member,
    verify_organization,
)
from marketplace.actions.signals import bookmark_listing, record_view

__all__ = [
    "ListingChanges",
    "accept_invitation",
    "accept_offer",
    "add_member",
    "assign_brokers",
    "bookmark_listing",
    "cancel_deal",
    "close_demand",
    "create_api_token",
    "create_listing",
    "create_organization",
    "invite_member",
    "make_offer",
    "open_inquiry",
    "post_demand",
    "publish_listing",
    "record_view",
    "register_user",
    "request_nda",
    "revoke_api_token",
    "set_milestones",
    "sign_nda",
    "update_listing",
    "verify_organization",
    "withdraw_listing",
]
