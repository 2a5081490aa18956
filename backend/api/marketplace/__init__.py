"""GraphQL types and queries of the marketplace domain."""
