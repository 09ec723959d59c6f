"""Pages of the review app that live in modules of their own (one module per page)."""
