"""Only what changed goes through the engine: the one-pass verdict for `fleet preview` and `fleet up`
(verdict.py), what a run ran with and what of it changed since (basis.py), and `--changed-since REF`
(since.py)."""
