"""Notifications: the team told of each new problem of the fleet once, in its chat or its own service.

config.py reads `notifications.yaml` (the sinks, the thresholds) and `--notify`; conditions.py says what
holds now (drift, a failed run, an unacknowledged danger, DNS records pending, a lock held, a shard
missing); decide.py compares that with what each sink was last told (store.py, in the run history) and
makes the events; message.py writes them (the versioned JSON body, Slack text, a digest when many);
signing.py signs a webhook's body; delivery.py sends, retried within a bounded time; notify.py is the
workflow a command calls after its run.
"""
