"""Serves the policy pack: started by the launcher `pulumi-analyzer-policy-email-partners` in this
directory, it prints the port of its Analyzer (the plugin protocol) and serves until the engine stops it.

Problems it can name (a Python without pulumi_policy, a bad settings file) go to stderr with exit
status 1, before any port is printed: the engine then reports that the pack failed to start.
"""

import os
import sys
from pathlib import Path

# The project root instead of this directory: the pack's modules import as `policies.*`, next to
# the project's own packages (providers), and no module here shadows an installed one.
sys.path[0] = str(Path(__file__).resolve().parent.parent)


def main() -> None:
    try:
        from pulumi_policy import EnforcementLevel, PolicyPack
    except ImportError as exc:
        sys.exit(f"policies: {sys.executable} cannot import pulumi_policy ({exc}): run scripts/bootstrap.sh, "
                 f"or point PULUMI_POLICY_PYTHON at the project's virtualenv python")
    from policies import rules
    from policies.settings import PackConfigError, pack_config, stack_context

    context = stack_context(os.environ)
    try:
        config = pack_config(context.environment, set(rules.RULES))
    except PackConfigError as exc:
        sys.exit(f"policies: {exc}")
    initial = {rule: {**entry, **({"enforcementLevel": EnforcementLevel(entry["enforcementLevel"])}
                                  if "enforcementLevel" in entry else {})}
               for rule, entry in config.items()}
    PolicyPack(name="email-partners", policies=rules.policies(context),
               enforcement_level=EnforcementLevel.ADVISORY, initial_config=initial,
               description=f"email-partners customer rules ({context.environment_label})")


if __name__ == "__main__":
    main()
