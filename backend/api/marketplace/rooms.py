"""Deal rooms in the API: the room and its messages (query), and what a message looks like to its viewer.

Every value here is rendered for one viewer by marketplace.rooms.view (aliases, masking, private
threads), so the field resolvers only read attributes: the subscription runs them for each event without
touching the database.
"""

from datetime import datetime
from typing import Any

import graphene
from graphql import GraphQLError
from graphql_relay import to_global_id

from backend.api.core.errors import ApiErrorCode, api_error
from backend.api.core.ids import pk_from_global_id
from marketplace.error_codes import ActionError
from marketplace.models import RoomReadState
from marketplace.rooms import ephemeral
from marketplace.rooms.entries import display_name, rows_after, rows_before
from marketplace.rooms.log import last_sequence
from marketplace.rooms.participants import participants
from marketplace.rooms.view import Rendered, Viewer, author_label, load_viewer, render

MAX_PAGE = 100

RoomThreadEnum = graphene.Enum(
    "DealRoomThread",
    [("ALL", "all"), ("SELLER", "seller"), ("BUYER", "buyer")],
    description="The whole room, or one side's private thread with the brokers.",
)
RoomEntryKindEnum = graphene.Enum(
    "RoomMessageKind",
    [
        ("TEXT", "text"),
        ("FILE", "file"),
        ("SYSTEM", "system"),
        ("FORWARD", "forward"),
        ("MODERATION", "moderation"),
    ],
)
RoomRoleEnum = graphene.Enum(
    "RoomRole",
    [
        ("SELLER", "seller"),
        ("BUYER", "buyer"),
        ("BROKER", "broker"),
        ("OPERATOR", "operator"),
        ("SYSTEM", "system"),
    ],
)


class RoomAttachment(graphene.ObjectType):
    """A vault document the message refers to; download it through the vault, which checks access."""

    deposit_id = graphene.ID(required=True)
    file_id = graphene.ID(required=True)
    name = graphene.String(required=True)
    size = graphene.Float(required=True)

    @staticmethod
    def resolve_deposit_id(rendered: Rendered, info: graphene.ResolveInfo) -> str:
        return to_global_id("Deposit", rendered.attachment.deposit_id)  # type: ignore[union-attr]

    @staticmethod
    def resolve_file_id(rendered: Rendered, info: graphene.ResolveInfo) -> str:
        return to_global_id("DepositFile", rendered.attachment.file_id)  # type: ignore[union-attr]

    @staticmethod
    def resolve_name(rendered: Rendered, info: graphene.ResolveInfo) -> str:
        return rendered.attachment.name  # type: ignore[union-attr]

    @staticmethod
    def resolve_size(rendered: Rendered, info: graphene.ResolveInfo) -> int:
        return rendered.attachment.size  # type: ignore[union-attr]


class RoomMessage(graphene.ObjectType):
    """One entry of a deal room's log, as its viewer may see it."""

    id = graphene.ID(required=True, description="Global id, for forwardMessage and hideMessage.")
    sequence = graphene.Int(required=True, description="Increasing per room; resume after the last you saw.")
    kind = graphene.Field(RoomEntryKindEnum, required=True)
    thread = graphene.Field(RoomThreadEnum, required=True)
    author_name = graphene.String(
        required=True, description="The author's name, or an alias (Seller, Buyer A) before the NDA."
    )
    author_role = graphene.Field(RoomRoleEnum, required=True)
    is_you = graphene.Boolean(required=True)
    body = graphene.String(description="Null when an operator hid the message.")
    masked = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="What was masked for you before the NDA: email, phone, link.",
    )
    event = graphene.String(description="A system message's event: offer_made, nda_completed, …")
    data = graphene.JSONString(required=True, description="A system message's facts (versions, amounts).")
    attachment = graphene.Field(RoomAttachment)
    source_sequence = graphene.Int(description="The message a forward relays, or a moderation hides.")
    hidden = graphene.Boolean(required=True)
    hidden_reason = graphene.String(description="Operators only.")
    created_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_id(r: Rendered, info: graphene.ResolveInfo) -> str:
        return to_global_id("RoomMessage", r.entry.id)

    @staticmethod
    def resolve_sequence(r: Rendered, info: graphene.ResolveInfo) -> int:
        return r.entry.sequence

    @staticmethod
    def resolve_kind(r: Rendered, info: graphene.ResolveInfo) -> str:
        return r.entry.kind

    @staticmethod
    def resolve_thread(r: Rendered, info: graphene.ResolveInfo) -> str:
        return r.entry.thread

    @staticmethod
    def resolve_author_role(r: Rendered, info: graphene.ResolveInfo) -> str:
        return r.entry.author_role

    @staticmethod
    def resolve_event(r: Rendered, info: graphene.ResolveInfo) -> str | None:
        return r.entry.event or None

    @staticmethod
    def resolve_data(r: Rendered, info: graphene.ResolveInfo) -> dict[str, Any]:
        return r.entry.data

    @staticmethod
    def resolve_attachment(r: Rendered, info: graphene.ResolveInfo) -> Rendered | None:
        return r if r.attachment is not None else None

    @staticmethod
    def resolve_source_sequence(r: Rendered, info: graphene.ResolveInfo) -> int | None:
        return r.entry.source_sequence

    @staticmethod
    def resolve_hidden(r: Rendered, info: graphene.ResolveInfo) -> bool:
        return r.entry.hidden

    @staticmethod
    def resolve_hidden_reason(r: Rendered, info: graphene.ResolveInfo) -> str | None:
        return r.entry.hidden_reason or None if r.body is not None and r.entry.hidden else None

    @staticmethod
    def resolve_created_at(r: Rendered, info: graphene.ResolveInfo) -> datetime:
        # Entries carry ISO text (they also travel through Redis); graphene's DateTime wants a datetime.
        return datetime.fromisoformat(r.entry.created_at)


class RoomParticipant(graphene.ObjectType):
    name = graphene.String(required=True, description="A name, or an alias before the NDA.")
    role = graphene.Field(RoomRoleEnum, required=True)
    is_you = graphene.Boolean(required=True)
    online = graphene.Boolean(required=True, description="Connected to the room now.")
    typing = graphene.Boolean(required=True)
    last_read_sequence = graphene.Int(required=True)


class DealRoomType(graphene.ObjectType):
    class Meta:
        name = "DealRoom"

    deal_id = graphene.ID(required=True)
    last_sequence = graphene.Int(required=True)
    my_last_read_sequence = graphene.Int(required=True)
    relayed = graphene.Boolean(
        required=True, description="Aliases and contact masking between the sides are in force."
    )
    participants = graphene.List(graphene.NonNull(RoomParticipant), required=True)
    messages = graphene.List(
        graphene.NonNull(RoomMessage),
        required=True,
        after_sequence=graphene.Int(description="Messages after this sequence, oldest first."),
        before_sequence=graphene.Int(description="Instead: the latest messages before this sequence."),
        first=graphene.Int(default_value=50, description="At most 100."),
        description="Without arguments: the latest 50, oldest first. Skips what you may not see.",
    )

    @staticmethod
    def resolve_deal_id(viewer: Viewer, info: graphene.ResolveInfo) -> str:
        return to_global_id("Deal", viewer.deal_id)

    @staticmethod
    def resolve_last_sequence(viewer: Viewer, info: graphene.ResolveInfo) -> int:
        return last_sequence(viewer.deal_id)

    @staticmethod
    def resolve_my_last_read_sequence(viewer: Viewer, info: graphene.ResolveInfo) -> int:
        state = RoomReadState.objects.filter(deal_id=viewer.deal_id, user_id=viewer.user_id).first()
        return state.last_read_sequence if state else 0

    @staticmethod
    def resolve_relayed(viewer: Viewer, info: graphene.ResolveInfo) -> bool:
        return viewer.relayed

    @staticmethod
    def resolve_participants(viewer: Viewer, info: graphene.ResolveInfo) -> list[RoomParticipant]:
        return participants_of(viewer)

    @staticmethod
    def resolve_messages(
        viewer: Viewer,
        info: graphene.ResolveInfo,
        after_sequence: int | None = None,
        before_sequence: int | None = None,
        first: int = 50,
    ) -> list[Rendered]:
        if not 0 < first <= MAX_PAGE:
            raise api_error(ApiErrorCode.PAGE_SIZE_EXCEEDED, f"first must be 1 to {MAX_PAGE}.")
        return messages_of(viewer, after_sequence, before_sequence, first)


def messages_of(viewer: Viewer, after: int | None, before: int | None, first: int) -> list[Rendered]:
    if after is None:
        # The latest `first` visible messages, walking back a page at a time past other threads' entries.
        found: list[Rendered] = []
        cursor = before if before is not None else 2**31 - 1
        while len(found) < first:
            page = rows_before(viewer.deal_id, cursor, first * 2)
            if not page:
                break
            found = [r for r in (render(viewer, e) for e in page) if r is not None] + found
            cursor = page[0].sequence
        return found[-first:]
    out: list[Rendered] = []
    cursor = after
    while len(out) < first:
        page = rows_after(viewer.deal_id, cursor, first * 2)
        if not page:
            break
        out.extend(r for r in (render(viewer, e) for e in page) if r is not None)
        cursor = page[-1].sequence
    return out[:first]


def participants_of(viewer: Viewer) -> list[RoomParticipant]:
    from marketplace.models import Deal

    deal = Deal.objects.select_related("listing").get(pk=viewer.deal_id)
    online = ephemeral.present_users(deal.pk)
    typing = ephemeral.typing_users(deal.pk)
    reads = dict(RoomReadState.objects.filter(deal=deal).values_list("user_id", "last_read_sequence"))
    return [
        RoomParticipant(
            name=author_label(viewer, role, user.pk, display_name(user)),
            role=role,
            is_you=user.pk == viewer.user_id,
            online=user.pk in online,
            typing=user.pk in typing,
            last_read_sequence=reads.get(user.pk, 0),
        )
        for user, role in participants(deal)
    ]


class RoomQueries(graphene.ObjectType):
    deal_room = graphene.Field(
        DealRoomType,
        deal_id=graphene.ID(required=True),
        description="A deal's room, for its parties, brokers and operators; null for anyone else.",
    )

    @staticmethod
    def resolve_deal_room(root: None, info: graphene.ResolveInfo, deal_id: str) -> Viewer | None:
        pk = pk_from_global_id(deal_id, "Deal")
        if pk is None:
            raise GraphQLError("Not a Deal id.", extensions={"code": ApiErrorCode.INVALID_ID})
        try:
            return load_viewer(info.context.user, pk)
        except ActionError:
            return None
