"""Kept for programs of earlier releases: their stacks/customer.py imports the Ciirus `initial` model from
here (tests/e2e/programs/previous_release). It is the Ciirus platform's now; import it from there."""

from ...platforms.ciirus import CiirusInitialSettings

__all__ = ["CiirusInitialSettings"]
