#!/usr/bin/env bash
# The fleet's loop as every CI system runs it (docs/ci/*.yml, docs/ci/gitlab-ci.yml, docs/kubernetes/
# fleet-drift-cronjob.yaml all call this script, the same way): the workflows stay thin, and this one
# path is the one the tests run (tests/e2e/test_fleet_loop.py). README: "The fleet runs itself".
#
#   scripts/fleet-loop.sh review           a pull request's review (dangers first), into $FLEET_OUT/review.md
#   scripts/fleet-loop.sh apply            on the default branch: what the merge changed, if its review passes
#   scripts/fleet-loop.sh drift            scheduled: the whole fleet's drift in one run, notified, the page written
#   scripts/fleet-loop.sh drift-shard K/N  scheduled, sharded: one shard's drift report (notifies nothing)
#   scripts/fleet-loop.sh drift-report     after the shards: one report, notified (a missing shard too), the page
#
# Environment (the same on every CI; the workflows set it):
#   FLEET_BASE      review: the target branch (e.g. origin/main); apply: the commit before the push
#                   (default and fallback: HEAD^, the first parent of a merge commit)
#   FLEET_LABELS    the pull/merge request's labels, comma- or newline-separated; each
#                   `acknowledge:KIND` acknowledges that kind of dangerous change (review --acknowledge)
#   FLEET_OUT       where reports, the review and status.html go (default: fleet-out)
#   FLEET_PARALLEL  customers at once (default: the tool's, the number of cores)
#   EMAIL_PARTNERS  how to run the tool (default: the project's .venv/bin/email-partners, else on PATH)
#   EMAIL_PARTNERS_NOTIFY, EMAIL_PARTNERS_STATUS_URL, the backend, passphrase and vendor credentials: the tool's own.
# Exit status: the tool's (0 done; 1 a failure; 3 a dangerous change no reviewer acknowledged: nothing
# applied; 4 drift found); 2 for bad usage of this script.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${FLEET_OUT:-fleet-out}
mkdir -p "$out"
if [ -n "${EMAIL_PARTNERS:-}" ]; then
  read -r -a tool <<< "$EMAIL_PARTNERS"
elif [ -x "$repo/.venv/bin/email-partners" ]; then
  tool=("$repo/.venv/bin/email-partners")
else
  tool=(email-partners)
fi
tool+=(--project-dir "$repo")
parallel=()
[ -n "${FLEET_PARALLEL:-}" ] && parallel=(--parallel "$FLEET_PARALLEL")

say() { echo "fleet-loop: $*" >&2; }

acknowledgements() {  # FLEET_LABELS -> --acknowledge KIND ...
  local label
  acks=()
  while IFS= read -r label; do
    label=$(echo "$label" | tr -d '[:space:]')
    case "$label" in acknowledge:?*) acks+=(--acknowledge "${label#acknowledge:}");; esac
  done < <(printf '%s\n' "${FLEET_LABELS:-}" | tr ',' '\n')
}

status_page() {  # the page as a CI artifact; its failure never hides the run's own status
  "${tool[@]}" status --output "$out/status.html" || say "warning: the status page was not written"
}

base_commit() {  # FLEET_BASE when git knows that commit (a new branch's push says 0000...), else HEAD^
  local base=${FLEET_BASE:-}
  if [ -n "$base" ] && [ -n "${base//0/}" ] && git -C "$repo" cat-file -e "$base^{commit}" 2>/dev/null; then
    echo "$base"
  else
    git -C "$repo" rev-parse --verify --quiet 'HEAD^' || { say "no commit before HEAD to compare with"; exit 2; }
  fi
}

command=${1:-}
case "$command" in
  review)
    [ -n "${FLEET_BASE:-}" ] || { say "review: set FLEET_BASE to the target branch (e.g. origin/main)"; exit 2; }
    acknowledgements
    "${tool[@]}" review --changed-since "$FLEET_BASE" --check-credentials "${acks[@]}" --output "$out/review.md"
    status=$?
    cat "$out/review.md" 2>/dev/null
    exit "$status"
    ;;
  apply)
    base=$(base_commit) || exit 2
    acknowledgements
    say "applying what changed since $(git -C "$repo" rev-parse --short "$base"), if its review passes"
    # The customers the change touches, as `fleet up --changed-since` selects them below: their stack
    # files, an environment file's customers, every customer when the program, providers/, policies/,
    # Pulumi.yaml or pyproject.toml changed (operations/changes/since.py); deleted stack files first.
    "${tool[@]}" review --changed-since "$base" "${acks[@]}" --output "$out/review.md"
    status=$?
    cat "$out/review.md" 2>/dev/null
    if [ "$status" = 3 ]; then
      say "NOT APPLIED: a dangerous change that no reviewer acknowledged (listed above, first). Nothing of"
      say "this commit was applied. To apply it, add the label acknowledge:KIND for each kind to the merged"
      say "pull request, then run this job again; or revert the change."
      exit 3
    elif [ "$status" != 0 ]; then
      say "NOT APPLIED: the review of the change failed (exit $status; above): nothing was applied"
      exit "$status"
    fi
    "${tool[@]}" fleet up --changed-since "$base" --yes "${parallel[@]}" --json "$out/apply.json"
    status=$?
    status_page
    exit "$status"
    ;;
  drift)
    "${tool[@]}" fleet drift "${parallel[@]}" --json "$out/drift.json"
    status=$?
    status_page
    exit "$status"
    ;;
  drift-shard)
    shard=${2:-}
    [[ "$shard" =~ ^[0-9]+/[0-9]+$ ]] || { say "drift-shard K/N: K and N numbers, e.g. 2/4"; exit 2; }
    # The merge notifies once for the whole fleet (one digest, a missing shard named): a shard tells no one.
    "${tool[@]}" fleet drift --shard "$shard" --notify none "${parallel[@]}" --json "$out/shard-${shard%%/*}.json"
    status=$?
    # 4 (drift) is the merged report's verdict to give; anything else fails this shard now.
    [ "$status" = 4 ] && exit 0
    exit "$status"
    ;;
  drift-report)
    shopt -s nullglob
    reports=("$out"/shard-*.json)
    if [ "${#reports[@]}" = 0 ]; then
      say "no shard reported (no $out/shard-*.json): the fleet was not checked"
      exit 1
    fi
    "${tool[@]}" fleet report "${reports[@]}" --json "$out/drift.json"
    status=$?
    status_page
    exit "$status"
    ;;
  *)
    say "usage: scripts/fleet-loop.sh review | apply | drift | drift-shard K/N | drift-report"
    exit 2
    ;;
esac
