"""`email-partners`: the operations tool beside the Pulumi program (one module per subcommand)."""
