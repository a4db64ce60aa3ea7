"""Ciirus's handlers: the API user's one sub-account, its limits and its sending domain (one remote object)."""
