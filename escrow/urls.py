"""HTTP endpoints of the vault (streamed uploads and downloads, certificates, the log's public data)."""

from django.urls import path

from escrow import views

app_name = "escrow"

urlpatterns = [
    path("deposits/", views.create_deposit, name="deposit-create"),
    path("deposits/<int:deposit_id>/files/<int:position>", views.download_file, name="deposit-file"),
    path("deposits/<int:deposit_id>/certificate.json", views.certificate, name="deposit-certificate"),
    path("public-key", views.public_key, name="public-key"),
    path("log/tree-head", views.tree_head, name="log-tree-head"),
    path("log/consistency", views.consistency, name="log-consistency"),
    path("log/inclusion", views.inclusion, name="log-inclusion"),
]
