"""The one place that drives the Pulumi engine.

- environment.py: where the engine is, the environment every run gets, the process's preparation;
- errors.py: engine failures, classified once by the Automation API's own types;
- cli.py: `pulumi` CLI runs (previews as event streams, config, exports, stack lists, stack init);
- automation.py: the Automation API (one workspace, stacks opened without selecting them, operations);
- inline.py: the project's program run in this process for a fleet (the SDK's private uses, pinned);
- events.py: a run's engine events read into counts, drift, plan, errors and policy findings;
- urns.py: resource kinds and names from type tokens and URNs;
- orphans.py: engine processes left behind, ended by the tool that started them.
"""
