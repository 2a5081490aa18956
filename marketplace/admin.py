from django.contrib import admin

from marketplace.models import Patent


@admin.register(Patent)
class PatentAdmin(admin.ModelAdmin[Patent]):
    list_display = ["office", "application_number", "title", "legal_status", "expiry_date", "source"]
    list_filter = ["office", "legal_status", "source"]
    search_fields = ["application_number", "registration_number", "source_reference"]
