#!/usr/bin/env bash
# Runs the libFuzzer targets (built by `make fuzz-build`) from the seed corpora in Fuzz/corpus.
#   scripts/fuzz.sh RUNS [SECONDS]   — each target for RUNS inputs, or SECONDS at most
# New interesting inputs go to a scratch copy, crashes to .build-fuzz/crashes (then add the
# crashing input to Fuzz/corpus/<target>/ so that the replayers in `make test` keep it a test).
# Every target runs even if an earlier one crashed; the exit status is 1 if any did.
set -euo pipefail
RUNS=${1:-1000000}
SECONDS_MAX=${2:-0}
export SWIFT_BACKTRACE=enable=no
mkdir -p .build-fuzz/crashes
failed=()
for target in wire core; do
  bin=.build-fuzz/release/Fuzz${target^}
  work=$(mktemp -d)
  cp Fuzz/corpus/$target/* "$work"/
  args=(-runs="$RUNS" -max_len=4096 -artifact_prefix=.build-fuzz/crashes/$target- -print_final_stats=1)
  [ "$SECONDS_MAX" != 0 ] && args+=(-max_total_time="$SECONDS_MAX")
  echo "fuzzing $target: ${args[*]}"
  status=0
  "$bin" "${args[@]}" "$work" > "$work.log" 2>&1 || status=$?
  grep -E "^Done|stat::number_of_executed_units|ERROR|SUMMARY|Fatal error|Test unit written" "$work.log" || true
  rm -rf "$work" "$work.log"
  if [ "$status" != 0 ]; then echo "fuzz target $target FAILED (see .build-fuzz/crashes)"; failed+=("$target"); fi
done
if ((${#failed[@]})); then echo "fuzzing: ${failed[*]} crashed"; exit 1; fi
echo "fuzzing: no crash"
