"""`review`: what a change does to customers, for the reviewer: the stack files a change touches
(files.py), each preview in a reviewer's words with the dangers first (plan.py, models.py), the
whole run (run.py) and its Markdown and JSON (render.py)."""
