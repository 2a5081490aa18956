"""Websocket consumers (Channels) and their routing."""
