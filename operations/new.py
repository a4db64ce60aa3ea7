"""`email-partners new`: a new customer stack with a commented starter declaration for its platform.

The stack gets the environment's provider settings (credentials encrypted by Pulumi) and a
declaration listing the settings that platform supports, with example values to replace, so
nobody starts from a blank file or a copied demo.
"""

from __future__ import annotations

import click

from . import automation
from .environments import EnvironmentError_, load_environment
from .stack_writer import create_stack, write_declaration
from .project import stack_file

STARTERS = {
    "cakemail": """\
  # The customer (replace the example values). Checked at `pulumi preview`; see README.
  email-partners:customer:
    platform: cakemail
    account:
      name: {title}                   # the account's name, changeable later
      owner:                          # fixed at creation: Cakemail cannot change the owner later
        email: owner@{customer}.example
        first_name: First
        last_name: Last
        language: en_US               # optional
        timezone: America/Montreal    # optional
      trial: false
      partner: false
      suspended: false
      # adopt_account_id: "123"       # take over an existing account instead (see `email-partners discover`)
    features:                         # only the limits and switches listed here are managed
      per_month: 10000
      maximum_contacts: 5000
      # lists: -1                     # -1 = unlimited (lists, users, campaign_blueprints, automation_conditions)
      # use_ab_split: true            # use_* switches and insert_reseller_logo: true/false
    sending_domains:                  # one DKIM key per domain; its DNS record is a stack output
      - domain: news.{customer}.example
        # selector: mail              # default: derived from the account and domain
        # verification_timeout_seconds: 600   # wait for the DNS record at `up`
""",
    "signupto": """\
  # The customer (replace the example values). Checked at `pulumi preview`; see README.
  # Sign-Up.to's API cannot update or delete an account: the account settings are fixed once created.
  email-partners:customer:
    platform: signupto
    account:
      name: {title}
      owner:
        email: owner@{customer}.example
        timezone: Europe/London       # optional
      country: GB                     # optional: ISO alpha-2; address, telephone, website also optional
      on_destroy: refuse              # or keep: `destroy` removes it from the stack and leaves it on Sign-Up.to
      # adopt_account_id: "123"       # take over an existing account instead (see `email-partners discover`)
    features:                         # only the names listed here are managed
      enableemail: true
      enablesendbulkemail: true
      enablesms: false
      list_limit: 200
      subscriber_limit: 10000         # or "unlimited"
""",
    "ciirus": """\
  # The customer (replace the example values). Checked at `pulumi preview`; see README.
  # Ciirus: one sub-account per API user, created together with its domain, limit and approval.
  email-partners:customer:
    platform: ciirus
    account: {{}}                       # or {{adopt_account_id: "subaccount-..."}} to take over the existing one
    features:
      daily_send_limit: 1000
      approved: false
    sending_domains:                  # exactly one; its DNS, DKIM and SPF records are stack outputs
      - domain: mail.{customer}.example
        # verification_timeout_seconds: 600
""",
}


@click.command(name="new", help="Create the stack <CUSTOMER>.<ENVIRONMENT> with a commented starter declaration.")
@click.argument("customer")
@click.option("--platform", required=True, type=click.Choice(sorted(STARTERS)))
@click.option("--environment", "env_name", required=True, help="stacks/environments/<ENVIRONMENT>.yaml")
@click.option("--force", is_flag=True, help="Overwrite the stack's config if it exists (its state is kept).")
@click.pass_obj
def new(ctx, customer: str, platform: str, env_name: str, force: bool) -> None:
    project_dir = ctx.project_dir
    if not customer or not all(c.isalnum() or c == "-" for c in customer) or customer != customer.lower():
        raise click.UsageError(f"customer {customer!r}: use lower-case letters, digits and hyphens (e.g. acme-bakery)")
    try:
        environment = load_environment(project_dir, env_name)
        credentials = environment.resolved_config(platform)
    except EnvironmentError_ as exc:
        raise click.UsageError(str(exc)) from None
    name = f"{customer}.{env_name}"
    try:
        in_backend = name in automation.stack_names(project_dir)
        if (in_backend or stack_file(project_dir, name).exists()) and not force:
            raise click.UsageError(f"stack {name!r} already exists: nothing was changed (--force overwrites its config)")
        create_stack(project_dir, name, environment, platform, credentials, in_backend=in_backend)
        title = " ".join(part.capitalize() for part in customer.split("-"))
        path = write_declaration(
            project_dir, name, environment, platform, credentials, None, keep_from_copy=False,
            header=f"Customer {customer!r} on {platform}, environment {env_name!r}: made by `email-partners new`.\n"
                   f"Edit the declaration below, then `pulumi preview --stack {name}`.",
            declaration_text=STARTERS[platform].format(customer=customer, title=title))
    except automation.EngineError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Created stack {name} ({path.relative_to(project_dir)}): edit its declaration, then "
               f"`pulumi preview --stack {name}`.")
