"""`status`: the fleet's health on one self-contained page, from what is already recorded: read in one
pass (read.py), built into the page's data (data.py), rendered (page.py, page.html) or served (serve.py)."""
