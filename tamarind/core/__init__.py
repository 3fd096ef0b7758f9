"""Model-free code shared by every app: request context, parsing, pagination, HTTP helpers."""
