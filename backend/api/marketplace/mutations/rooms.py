"""Deal-room mutations: send, forward (brokers), hide (operators), mark read, typing.

They work over HTTP and over the graphql-transport-ws socket alike.
"""

from typing import Any

import graphene

from backend.api.core.errors import errors_field
from backend.api.core.ids import decode_id
from backend.api.core.mutations import BaseMutation
from backend.api.marketplace.rooms import RoomMessage, RoomThreadEnum
from marketplace.error_codes import MarketplaceErrorCode as Code
from marketplace.models import RoomEntry
from marketplace.rooms import actions
from marketplace.rooms.entries import entry_of
from marketplace.rooms.view import Rendered, Viewer, load_viewer, render

ROOM_CODES = [Code.RATE_LIMITED, Code.MESSAGE_TOO_LONG, Code.ROOM_CLOSED]


def _value(choice: Any) -> str:
    """Enum arguments arrive as enum members or, as defaults, as their values."""
    return str(getattr(choice, "value", choice))


def _rendered(user: Any, row: RoomEntry, viewer: Viewer | None = None) -> Rendered | None:
    """The stored entry as its author (or the acting broker/operator) sees it."""
    return render(viewer or load_viewer(user, row.deal_id), entry_of(row))


class SendMessage(BaseMutation):
    """Write to a deal room, or to your side's private thread with the brokers."""

    class Arguments:
        deal_id = graphene.ID(required=True)
        body = graphene.String(description="Up to 4,000 characters.")
        thread = graphene.Argument(RoomThreadEnum, default_value="all")
        attachment_id = graphene.ID(description="A vault document (DepositFile) of this deal.")
        client_message_id = graphene.String(
            description="Your id for this message: resending after a dropped connection stores it once."
        )

    message = graphene.Field(RoomMessage)
    errors = errors_field("SendMessage", ROOM_CODES)

    @classmethod
    def perform(
        cls,
        info: graphene.ResolveInfo,
        user: Any,
        deal_id: str,
        body: str | None = None,
        thread: str = "all",
        attachment_id: str | None = None,
        client_message_id: str | None = None,
    ) -> dict[str, Any]:
        deal_pk = decode_id(deal_id, "Deal", "deal_id")
        file_pk = decode_id(attachment_id, "DepositFile", "attachment_id") if attachment_id else None
        viewer = load_viewer(user, deal_pk)  # once: for the action's checks and to render the answer
        row = actions.send_message(
            user,
            deal_pk,
            body or "",
            thread=_value(thread),
            attachment_id=file_pk,
            client_id=client_message_id or "",
            viewer=viewer,
        )
        return {"message": _rendered(user, row, viewer)}


class ForwardMessage(BaseMutation):
    """A broker relays a message to another thread; before the NDA it stays masked for the other side."""

    class Arguments:
        message_id = graphene.ID(required=True)
        to_thread = graphene.Argument(RoomThreadEnum, required=True)
        note = graphene.String(description="The broker's own words, shown with the forward.")

    message = graphene.Field(RoomMessage)
    errors = errors_field("ForwardMessage", ROOM_CODES)

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, message_id: str, to_thread: str, note: str | None = None
    ) -> dict[str, Any]:
        entry_pk = decode_id(message_id, "RoomMessage", "message_id")
        row = actions.forward_message(user, entry_pk, _value(to_thread), note or "")
        return {"message": _rendered(user, row)}


class HideMessage(BaseMutation):
    """Operators hide a message from the participants; it is kept, with who hid it and why."""

    class Arguments:
        message_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    message = graphene.Field(RoomMessage)
    errors = errors_field("HideMessage")

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, message_id: str, reason: str) -> dict[str, Any]:
        entry_pk = decode_id(message_id, "RoomMessage", "message_id")
        row = actions.hide_message(user, entry_pk, reason)
        return {"message": _rendered(user, row)}


class MarkRead(BaseMutation):
    """You have read up to `sequence`; the others see the receipt. The marker never moves back."""

    class Arguments:
        deal_id = graphene.ID(required=True)
        sequence = graphene.Int(required=True)

    last_read_sequence = graphene.Int()
    errors = errors_field("MarkRead")

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, deal_id: str, sequence: int) -> dict[str, Any]:
        marker = actions.mark_read(user, decode_id(deal_id, "Deal", "deal_id"), sequence)
        return {"last_read_sequence": marker}


class SetTyping(BaseMutation):
    """You are typing: the room is told (for a few seconds; send again while you type)."""

    class Arguments:
        deal_id = graphene.ID(required=True)
        thread = graphene.Argument(RoomThreadEnum, default_value="all")

    announced = graphene.Boolean(description="False when a recent call already announced it.")
    errors = errors_field("SetTyping")

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, deal_id: str, thread: str = "all"
    ) -> dict[str, Any]:
        return {"announced": actions.set_typing(user, decode_id(deal_id, "Deal", "deal_id"), _value(thread))}


class RoomMutations(graphene.ObjectType):
    send_message = SendMessage.Field()
    forward_message = ForwardMessage.Field()
    hide_message = HideMessage.Field()
    mark_read = MarkRead.Field()
    set_typing = SetTyping.Field()
