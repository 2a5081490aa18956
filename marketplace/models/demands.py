"""Demands: a buyer's published technology need."""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from marketplace.models.listings import Sector, TransactionType


class Demand(models.Model):
    buyer = models.ForeignKey("marketplace.Organization", on_delete=models.PROTECT, related_name="demands")
    created_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=300)
    description = models.TextField()
    keywords = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    ipc_interests = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    budget_amount = models.BigIntegerField(null=True, blank=True)
    budget_currency = models.CharField(max_length=3, blank=True)
    transaction_type = models.CharField(max_length=32, choices=TransactionType.choices, blank=True)
    sector = models.CharField(max_length=32, choices=Sector.choices, default=Sector.OTHER)
    reply_deadline = models.DateField(null=True, blank=True)
    is_open = models.BooleanField(default=True)
    is_generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
