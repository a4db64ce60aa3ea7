"""One customer's life: a new stack (new.py), a copy into another environment (clone.py), adoption of
what exists (discover.py), its DNS records (dns.py), its credentials checked (credentials.py), an
interrupted run recovered (recover.py), and its retirement (retire.py)."""
