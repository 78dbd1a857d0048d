#!/usr/bin/env bash
# Where each batch of the shared harness's durable job spends its time, stage by stage, on the
# broker's thread and the writer's: a binary built with timeline.patch (never merged) stamps
# each stage; timeline.py reads the stamps of the steady part of the run.
#
#   git apply scripts/experiments/timeline.patch
#   swift build -c release --product muster && cp .build/release/muster /tmp/muster-timeline
#   git apply -R scripts/experiments/timeline.patch
#   N=80000 scripts/experiments/timeline.sh /tmp/muster-timeline
#   RATE=1000 N=15000 scripts/experiments/timeline.sh /tmp/muster-timeline --lone
# OUT: the stamps' file (/tmp/muster-timeline.txt); W, RATE, SYNC as in harness-job.sh; arguments
# after the binary go to timeline.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:?usage: timeline.sh MUSTER_BINARY_WITH_THE_PATCH [--lone]}; shift
N=${N:-80000}; OUT=${OUT:-/tmp/muster-timeline.txt}
. scripts/harness-job.sh
harness_setup timeline
MUSTER_TRACE=$OUT harness_broker
harness_agency
harness_intake
grep -o "accepted_msgs/s=[0-9]*" "$work/intake.out" || true
# The stamps are written when the broker stops.
kill -TERM "$broker"; wait "$broker" 2>/dev/null || true
python3 scripts/experiments/timeline.py "$OUT" "$@"
