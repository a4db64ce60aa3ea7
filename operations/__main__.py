from .cli import main

main(prog_name="email-partners")
