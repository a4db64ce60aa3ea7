"""One owner per vendor object across a state backend: who manages what (index.py), what a declaration
would take over (claims.py), a fleet operation's check (gate.py) and the take-over that moves a
customer's objects from one stack to another (takeover.py). The words shared with the policy pack
and the providers are in providers/ownership.py."""
