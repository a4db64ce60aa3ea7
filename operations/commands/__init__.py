"""The command line: one module per subcommand, the only place (with operations/cli.py) that imports
click. A command parses its options, calls its workflow's package and renders the result; the
workflows know nothing of click and are driven the same way from a test, a CI job or a program."""
