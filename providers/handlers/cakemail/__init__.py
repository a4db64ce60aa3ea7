"""Cakemail's handlers: sub-accounts, their usage limits, and per-account DKIM keys."""
