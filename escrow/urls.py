"""HTTP endpoints of the vault (streamed uploads and downloads, certificates, the log's public data)."""


app_name = "escrow"

urlpatterns: list[object] = []
