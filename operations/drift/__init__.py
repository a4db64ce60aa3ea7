"""`fleet drift` in one pass: the fleet's recorded state read from the backend at once, the vendors read
under request budgets, each resource judged by the providers' own code in this process (sweep.py)."""
