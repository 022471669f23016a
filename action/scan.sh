#!/usr/bin/env bash
# The GitHub Action's scan step (action.yml): one `leakhound git --range`
# that prints the text summary to the log and writes the SARIF file for
# code scanning (--sarif), then records the exit code for the last step.
#
# Environment:
#   LEAKHOUND   the binary (action/install.sh's `bin`)
#   RANGE       the range input (default BASE..HEAD_SHA)
#   BASE        the pull request's base commit, or the push's `before`
#   HEAD_SHA    the pull request's head commit, or the pushed commit
#   FAIL_ON     any | critical | live | warning
#   ARGS        extra arguments for `leakhound git`, split on spaces
#   SARIF       the SARIF file to write (default leakhound.sarif)
# Writes exit-code=N to $GITHUB_OUTPUT (standard output when unset) and the
# report's summary line to $GITHUB_STEP_SUMMARY when set.
set -uo pipefail

range="${RANGE:-${BASE:-}..${HEAD_SHA:-HEAD}}"
# A new branch push has an all-zero "before": scan its own commits.
case "$range" in 0000000000000000000000000000000000000000..*) range="${HEAD_SHA:-HEAD}~1..${HEAD_SHA:-HEAD}" ;; esac

read -r -a extra <<<"${ARGS:-}"
report="$(mktemp)"
"$LEAKHOUND" git --range "$range" --fail-on "${FAIL_ON:-any}" --color never \
  --sarif "${SARIF:-leakhound.sarif}" ${extra[@]+"${extra[@]}"} . | tee "$report"
code=${PIPESTATUS[0]}

# The run's one-line summary (the report's last line) on the job's page.
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  # shellcheck disable=SC2016 # backquotes are Markdown here
  printf '**leakhound** `git --range %s`: %s\n' "$range" "$(tail -n 1 "$report")" >>"$GITHUB_STEP_SUMMARY"
fi
rm -f "$report"
printf 'exit-code=%s\n' "$code" >>"${GITHUB_OUTPUT:-/dev/stdout}"
