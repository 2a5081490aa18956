"""Deal rooms: every deal's conversation, an append-only log with a per-room increasing sequence.

The log is the source of truth; the Redis channel layer only wakes subscribers (ARCHITECTURE, Realtime).
A client resumes from the last sequence it saw, so a lost wake-up, a dropped socket or a Redis restart
loses nothing. Moderation is itself an entry in the log, so a client resuming after a hide learns of it.
"""

from django.db import models

from marketplace.models.deals import Deal


class Thread(models.TextChoices):
    """Who reads an entry: the whole room, or one side with its brokers (the broker's private thread)."""

    ALL = "all", "Whole room"
    SELLER = "seller", "Seller side and brokers"
    BUYER = "buyer", "Buyer side and brokers"


class EntryKind(models.TextChoices):
    TEXT = "text", "Text"
    FILE = "file", "File"
    SYSTEM = "system", "System"
    FORWARD = "forward", "Forwarded by a broker"
    MODERATION = "moderation", "Moderation"


class AuthorRole(models.TextChoices):
    SELLER = "seller", "Seller"
    BUYER = "buyer", "Buyer"
    BROKER = "broker", "Broker"
    OPERATOR = "operator", "Operator"
    SYSTEM = "system", "System"


class DealRoom(models.Model):
    """The room's sequence counter. Incrementing it takes the row lock until the writer commits, so
    sequences become visible in commit order: a reader never sees n+1 before n."""

    deal = models.OneToOneField(Deal, primary_key=True, on_delete=models.CASCADE, related_name="room")
    last_sequence = models.PositiveIntegerField(default=0)
    # How far the offline digest has looked (notifications for participants who were away).
    digest_sequence = models.PositiveIntegerField(default=0)
    last_entry_at = models.DateTimeField(null=True, blank=True)


class RoomEntry(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="room_entries")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    thread = models.CharField(max_length=8, choices=Thread.choices, default=Thread.ALL)
    author = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=8, choices=AuthorRole.choices)
    body = models.TextField(blank=True)
    # A system entry's event (offer_made, nda_completed, milestone_released, …) and its facts.
    event = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # No database constraint: the vault is append-only (deposits are never deleted), and the demo's reset
    # empties the vault's tables with TRUNCATE, which a foreign key from here would refuse.
    attachment = models.ForeignKey(
        "escrow.DepositFile",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # A forward points at the entry it relays; a moderation entry at the entry it hides.
    source = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The sender's id for this message: a resent message (after a dropped socket) is stored once.
    client_id = models.CharField(max_length=64, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hidden_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deal_id", "sequence"]
        verbose_name_plural = "room entries"
        constraints = [
            models.UniqueConstraint(fields=["deal", "sequence"], name="room_entry_sequence_uniq"),
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=~models.Q(client_id=""),
                name="room_entry_client_uniq",
            ),
        ]


class RoomReadState(models.Model):
    """How far a participant has read, and how far the offline digest has told them about."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="room_read_states")
    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    last_read_sequence = models.PositiveIntegerField(default=0)
    notified_sequence = models.PositiveIntegerField(default=0)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deal", "user"], name="room_read_state_uniq")]
