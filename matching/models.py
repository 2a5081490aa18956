"""Matching keeps its state in Elasticsearch; PostgreSQL models arrive with the search issue."""
