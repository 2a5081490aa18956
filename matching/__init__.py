"""Matching domain: Elasticsearch documents, language analysis, embeddings, search, recommendations."""
