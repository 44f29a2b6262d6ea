#!/usr/bin/env bash
# One set-up step of the Makefile, said out loud: what it does before, how long it took after.
#   tools/setup_step.sh "<what the step does>" <command> [args...]
set -euo pipefail
what=$1
shift
echo "set-up: ${what} ..." >&2
start=$SECONDS
"$@"
echo "set-up: done in $((SECONDS - start)) s" >&2
