"""Sign-Up.to's handlers: company accounts and their feature switches and limits (no sending domains)."""
