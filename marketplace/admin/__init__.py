"""The Django admin operators work in: one module per aggregate.

Operators verify organisations and withdraw listings through admin actions that call the domain actions,
so every state change is checked and audited exactly as when a user makes it; fields that hold a state
(verification, listing status, deal state) are read-only here."""

from django.contrib import admin

from marketplace.admin import deals, listings, organisations, patents, records, rooms

admin.site.site_header = "IP Marketplace operations"
admin.site.site_title = "IP Marketplace operations"
admin.site.index_title = "Operations"

__all__ = ["deals", "listings", "organisations", "patents", "records", "rooms"]
