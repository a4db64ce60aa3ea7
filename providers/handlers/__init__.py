"""What a platform does: each resource's lifecycle on each vendor's API, behind one typed contract.

base.py is the contract; sub_account.py, account_features.py, sending_domain.py and
domain_verification.py hold what every platform shares for that resource (its State, and the
lifecycle where it is the same everywhere); providers/handlers/<vendor>/ holds one module per
resource its API offers. Handlers are named by module path in the platforms' descriptions and
imported only when a stack uses them.
"""
