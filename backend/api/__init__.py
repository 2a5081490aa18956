"""The GraphQL API: one sub-package per domain, mirroring it; `schema` assembles them."""
