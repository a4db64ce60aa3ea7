"""`email-partners backend copy`: a team's state moved from one backend to another (copy.py)."""
