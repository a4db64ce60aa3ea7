"""A handler's warning among the engine's diagnostics, through the real engine (providers/resources/
diagnostics.py): `pulumi up` prints it under the resource in its "Diagnostics:", and the Automation
API's event stream carries it as a warning DiagnosticEvent naming the resource. The warning: a create
that finds the account an earlier, interrupted run of the resource made (here made behind the tool's
back, as such a run leaves it) takes it over instead of creating another, and says so."""

from __future__ import annotations

from pulumi import automation as auto

from providers.cakemail.models import AccountOwnerUser, CreateAccount
from providers.signupto.models import CreateAccount as SignupToCreateAccount

SUB_ACCOUNT = "pulumi-python:dynamic/partners:SubAccount"
OWNER = {"email": "ops@warned.example", "first_name": "W", "last_name": "B"}


def test_the_launcher_hands_the_engines_arguments_to_the_provider_server(pulumi_bin):
    """The engine's address is the last argument the engine starts a plugin with; the SDK's launcher
    of dynamic providers must pass it on to `python -m pulumi.dynamic` (diagnostics.engine_address)."""
    launcher = (pulumi_bin / "pulumi-resource-pulumi-python").read_text()
    runs = [line.strip() for line in launcher.splitlines() if "-m pulumi.dynamic" in line]
    assert runs and all(line.endswith("-m pulumi.dynamic $@") for line in runs), \
        f"the launcher no longer passes its arguments to pulumi.dynamic: re-check diagnostics.engine_address\n{runs}"


def test_a_handlers_warning_is_among_the_diagnostics_of_pulumi_up(cakemail_project, cakemail_api):
    made = cakemail_api.create_account(CreateAccount(name="Warned Bakery", account_owner=AccountOwnerUser(**OWNER)))
    cakemail_project.set_customer({"platform": "cakemail", "account": {"name": "Warned Bakery", "owner": OWNER}})

    result = cakemail_project.up()
    assert "Diagnostics:" in result.stdout, result.output
    diagnostics = result.stdout.split("Diagnostics:", 1)[1].split("Outputs:", 1)[0]
    under_the_resource = diagnostics.split(f"{SUB_ACCOUNT} (", 1)[1]
    assert f"warning: cakemail account {made.id} ('Warned Bakery', created " in under_the_resource, result.output
    assert "was made by an earlier, interrupted run of this resource: taking it over" in under_the_resource
    assert cakemail_project.outputs()["account_id"] == made.id
    assert [a.id for a in cakemail_api.accounts_named("Warned Bakery")] == [made.id]


def test_a_handlers_warning_is_a_diagnostic_event_of_the_automation_api(signupto_project, signupto_api, pulumi_bin):
    made = signupto_api.create_account(SignupToCreateAccount(name="Warned Bakery", contactemail=OWNER["email"],
                                                             country="GB"))
    signupto_project.set_customer({"platform": "signupto", "account": {
        "name": "Warned Bakery", "owner": {"email": OWNER["email"]}, "country": "GB", "on_destroy": "keep"}})
    stack = auto.select_stack(stack_name=signupto_project.stack, work_dir=str(signupto_project.root),
                              opts=auto.LocalWorkspaceOptions(env_vars=signupto_project.env,
                                                              pulumi_command=auto.PulumiCommand(str(pulumi_bin.parent))))
    events: list[auto.EngineEvent] = []
    stack.up(on_event=events.append)

    warnings = [e.diagnostic_event for e in events
                if e.diagnostic_event is not None and e.diagnostic_event.severity == "warning"]
    [warning] = [w for w in warnings if "taking it over" in w.message]
    assert warning.urn.endswith(f"{SUB_ACCOUNT}::{signupto_project.stack}-account"), warning.urn
    assert warning.message.startswith(f"signupto account {made.id} ('Warned Bakery', created ")
    assert signupto_project.outputs()["account_id"] == str(made.id)
