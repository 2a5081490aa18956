"""Who is looking at a room, and what each entry looks like to them.

Before both NDA signatures the broker relays: seller and buyer see each other under aliases ("Seller",
"Buyer A"), and contact details in the other side's words are masked. Brokers and operators see everything
as written. After the NDA, names are revealed if the deal says so (`reveal_identities_after_nda`) and
masking lifts; parties who chose to stay anonymous keep masking too, since an e-mail address would name
them. Rendering happens at read time, so the state of the deal *now* decides: after the NDA, earlier
messages read unmasked.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection

from marketplace.access import deal_side, is_deal_broker, is_operator
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import AuthorRole, Deal, DealBroker, Listing, Membership, NdaSignature, Thread
from marketplace.rooms.entries import Attachment, Entry
from marketplace.rooms.masking import mask_contacts

PARTY_ROLES = (AuthorRole.SELLER, AuthorRole.BUYER)


@dataclass(frozen=True)
class Viewer:
    user_id: int
    deal_id: int
    role: str  # seller / buyer / broker / operator
    relayed: bool  # aliases and masking between the sides
    buyer_alias: str
    deal_state: str = ""

    @property
    def is_party(self) -> bool:
        return self.role in PARTY_ROLES

    def sees_thread(self, thread: str) -> bool:
        return thread == Thread.ALL or not self.is_party or thread == self.role

    def writable_threads(self) -> tuple[str, ...]:
        """Parties write to the room or to their own private thread with the brokers."""
        if self.is_party:
            return (Thread.ALL, self.role)
        return (Thread.ALL, Thread.SELLER, Thread.BUYER)


@dataclass(frozen=True)
class Rendered:
    entry: Entry
    author_name: str
    is_you: bool
    body: str | None  # None when an operator hid it (operators still read it)
    masked: tuple[str, ...]  # what was masked for this viewer: email, phone, link
    attachment: Attachment | None


def buyer_alias(deal: Deal) -> str:
    """Buyers of one listing are lettered in the order they inquired: Buyer A, Buyer B, …"""
    earlier = Deal.objects.filter(listing_id=deal.listing_id, pk__lt=deal.pk).count()
    return "Buyer " + (chr(ord("A") + earlier) if earlier < 26 else str(earlier + 1))


def is_relayed(deal: Deal) -> bool:
    signed = NdaSignature.objects.filter(deal=deal).count() == 2
    return not (signed and deal.reveal_identities_after_nda)


def role_of(user: User, deal: Deal) -> str | None:
    side = deal_side(user, deal)
    if side is not None:
        return str(side)
    if is_deal_broker(user, deal):
        return AuthorRole.BROKER
    if is_operator(user):
        return AuthorRole.OPERATOR
    return None


# Every message sent and every subscription starts by asking who the user is in the deal. As ORM querysets
# with subquery annotations this cost about 4 ms of Python per call (the SQL itself runs in 0.1 ms), the
# largest share of a send, so it is one hand-written statement.
_VIEWER_SQL = """
SELECT d.buyer_id, d.state, d.reveal_identities_after_nda, l.seller_id,
       (SELECT count(*) FROM {signature} s WHERE s.deal_id = d.id),
       (SELECT count(*) FROM {deal} e WHERE e.listing_id = d.listing_id AND e.id < d.id),
       EXISTS (SELECT 1 FROM {membership} m WHERE m.user_id = %(user)s AND m.organization_id = l.seller_id),
       EXISTS (SELECT 1 FROM {membership} m WHERE m.user_id = %(user)s AND m.organization_id = d.buyer_id),
       EXISTS (SELECT 1 FROM {broker} b WHERE b.deal_id = d.id AND b.broker_id = %(user)s)
FROM {deal} d JOIN {listing} l ON l.id = d.listing_id
WHERE d.id = %(deal)s
"""


def _viewer_sql() -> str:
    tables = {
        name: model._meta.db_table
        for name, model in (
            ("signature", NdaSignature),
            ("deal", Deal),
            ("membership", Membership),
            ("broker", DealBroker),
            ("listing", Listing),
        )
    }
    return _VIEWER_SQL.format(**tables)


def load_viewer(user: User | AnonymousUser, deal_id: int) -> Viewer:
    """Raises NOT_FOUND for anyone outside the deal, so a room's existence never leaks (`access_deal`'s
    rule: the parties' members, the deal's brokers and operators)."""
    row = None
    if user.is_authenticated:
        with connection.cursor() as cursor:
            cursor.execute(_viewer_sql(), {"user": user.pk, "deal": deal_id})
            row = cursor.fetchone()
    if row is None:
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such deal.", "deal_id")
    _, state, reveal, _, signatures, earlier, is_seller, is_buyer, is_broker = row
    if is_seller:
        role = AuthorRole.SELLER
    elif is_buyer:
        role = AuthorRole.BUYER
    elif is_broker:
        role = AuthorRole.BROKER
    elif is_operator(user):  # type: ignore[arg-type]
        role = AuthorRole.OPERATOR
    else:
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such deal.", "deal_id")
    return Viewer(
        user_id=user.pk or 0,
        deal_id=deal_id,
        role=role,
        relayed=not (signatures == 2 and reveal),
        buyer_alias="Buyer " + (chr(ord("A") + earlier) if earlier < 26 else str(earlier + 1)),
        deal_state=state,
    )


def author_label(viewer: Viewer, role: str, author_id: int | None, name: str) -> str:
    if role == AuthorRole.SYSTEM:
        return "System"
    if role == AuthorRole.OPERATOR:
        return "Operator"
    hidden_identity = viewer.relayed and viewer.is_party and role in PARTY_ROLES and role != viewer.role
    if hidden_identity:
        return "Seller" if role == AuthorRole.SELLER else viewer.buyer_alias
    return name


def render(viewer: Viewer, entry: Entry) -> Rendered | None:
    """None when the entry is not for this viewer (another side's private thread with the brokers)."""
    if not viewer.sees_thread(entry.thread):
        return None
    body: str | None = entry.body
    attachment = entry.attachment
    masked: tuple[str, ...] = ()
    if entry.hidden and viewer.role != AuthorRole.OPERATOR:
        body, attachment = None, None
    elif (
        viewer.relayed
        and viewer.is_party
        and entry.origin_role in PARTY_ROLES
        and entry.origin_role != viewer.role
        and body
    ):
        result = mask_contacts(body)
        body, masked = result.text, result.kinds
    return Rendered(
        entry=entry,
        author_name=author_label(viewer, entry.author_role, entry.author_id, entry.author_name),
        is_you=entry.author_id == viewer.user_id,
        body=body,
        masked=masked,
        attachment=attachment,
    )
