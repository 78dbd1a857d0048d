#!/usr/bin/env bash
# make test: every test of Muster, told briefly.
#
#   scripts/test.sh            build, Swift tests, corpus replay, integration tests, fuzzing (~25 s a target)
#   SWIFT=… scripts/test.sh    another swift driver (as the Makefile's SWIFT)
#   FUZZ_SECONDS=0 …           skip the fuzzing stage
#   PYTEST_ADDOPTS='-m "not slow"' …   options for the integration tests (pytest reads them)
#
# Each stage's whole output goes to a log under $MUSTER_TEST_LOGS (default .build/test-logs); the
# terminal gets one line per stage and, at the end, a summary whose last line is
#
#   N passed, N failed, N skipped
#
# counting the Swift tests and the integration tests together. The exit status is non-zero if
# any stage failed; a stage that failed without a failing test to show for it (the build, a
# crashed test runner, a fuzzing crash, output that could not be read) counts as one failure in
# that line, so the line and the exit status never disagree. A failed build prints its whole
# log; a failed test stage prints its failing tests and the end of its log.
set -uo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
LOGS=${MUSTER_TEST_LOGS:-.build/test-logs}
FUZZ_RUNS=${FUZZ_RUNS:-1000000}
FUZZ_SECONDS=${FUZZ_SECONDS:-25}
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log

started=$SECONDS
echo "muster tests: one line per stage; each stage's whole output is in $LOGS/"
passed=0 failed=0 skipped=0
failed_stages=()
summary=()
details=()

elapsed() { local s=$(( SECONDS - $1 )); if (( s >= 60 )); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi; }

# run NAME LOG COMMAND...: runs the command with its output in LOG; prints the stage's name first.
run() {
  local name=$1 log=$2; shift 2
  printf '%-13s ' "$name"
  { echo "\$ $*"; "$@"; } >>"$log" 2>&1
}

# stage_failed NAME LOG TEXT: remembers the failure and what a person needs to see of it (shown
# before the summary).
stage_failed() {
  failed_stages+=("$1")
  details+=("---- $1 FAILED (whole log: $2) ----"$'\n'"$3"$'\n'"----")
}

finish() {
  if ((${#details[@]})); then
    echo
    printf '%s\n' "${details[@]}"
  fi
  echo
  echo "== summary ($(elapsed $started); logs in $LOGS)"
  printf '%s\n' "${summary[@]}"
  if ((${#failed_stages[@]})); then
    echo "failed: ${failed_stages[*]}"
  fi
  echo "$passed passed, $failed failed, $skipped skipped"
  ((${#failed_stages[@]} == 0))
  exit
}

# -- 1. build: the debug build with the tests, the broker binary and the corpus replayers ---------
t=$SECONDS
if run build "$LOGS/build.log" "$SWIFT" build --build-tests; then
  echo "ok ($(elapsed $t))"
  summary+=("$(printf '%-13s ok (%s)' build "$(elapsed $t)")")
else
  echo "FAILED ($(elapsed $t))"
  stage_failed build "$LOGS/build.log" "$(cat "$LOGS/build.log")"
  summary+=("$(printf '%-13s FAILED: nothing else was run' build)")
  failed=$((failed + 1))
  finish
fi

# -- 2. Swift tests (swift-testing, and XCTest if any) -------------------------------------------
t=$SECONDS
log=$LOGS/swift-test.log
run "swift tests" "$log" "$SWIFT" test --skip-build; status=$?
# swift-testing: "✔ Test run with 96 tests in 20 suites passed after 3.1 seconds." and one
# "✘ Test name() failed after …" per failing test; XCTest: "Executed 96 tests, with 0 failures".
st_total=$(sed -nE 's/.*Test run with ([0-9]+) tests?( in [0-9]+ suites?)? (passed|failed).*/\1/p' "$log" | tail -n1)
st_failed=$(grep -E '^[^ ]+ +Test .+ failed after' "$log" | grep -cvE '^[^ ]+ +Test run with')
st_skipped=$(grep -cE '^[^ ]+ +Test .+ skipped' "$log")
xc_line=$(grep -E "Test Suite 'All tests' (passed|failed)" -A1 "$log" | grep -E 'Executed [0-9]+ tests?' | tail -n1)
xc_total=$(sed -nE 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1/p' <<<"$xc_line")
xc_failed=$(sed -nE 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\2/p' <<<"$xc_line")
if [ -z "$st_total" ] && [ -z "$xc_total" ]; then
  s_passed=0 s_failed=0 s_skipped=0 readable=no
else
  readable=yes
  s_failed=$(( st_failed + ${xc_failed:-0} ))
  s_skipped=$st_skipped
  s_passed=$(( ${st_total:-0} - st_failed - st_skipped + ${xc_total:-0} - ${xc_failed:-0} ))
  (( s_passed < 0 )) && s_passed=0
fi
passed=$((passed + s_passed)); failed=$((failed + s_failed)); skipped=$((skipped + s_skipped))
line="$s_passed passed, $s_failed failed, $s_skipped skipped"
if [ "$status" = 0 ] && [ "$readable" = yes ] && [ "$s_failed" = 0 ]; then
  echo "$line ($(elapsed $t))"
  summary+=("$(printf '%-13s %s (%s)' "swift tests" "$line" "$(elapsed $t)")")
else
  if [ "$readable" = no ] || [ "$s_failed" = 0 ]; then
    failed=$((failed + 1)); line="$line; swift test exited with $status without a readable summary (counted as 1 failed)"
  fi
  echo "$line ($(elapsed $t))"
  summary+=("$(printf '%-13s FAILED: %s' "swift tests" "$line")")
  stage_failed "swift tests" "$log" "$(grep -E ' recorded an issue| failed after|Fatal error|error: ' "$log" | grep -v 'Test run with' | head -n 60)
…
$(tail -n 25 "$log")"
fi

# -- 3. the fuzz corpora replayed with the ordinary build: every input that once crashed ---------
t=$SECONDS
log=$LOGS/corpus.log
if run "corpus replay" "$log" .build/debug/FuzzWire Fuzz/corpus/wire && run "" "$log" .build/debug/FuzzCore Fuzz/corpus/core >/dev/null; then
  line=$(sed -nE 's/^(Fuzz[A-Za-z]+): replayed ([0-9]+) inputs.*/\1 \2/p' "$log" | awk '{printf "%s%s %s inputs", (NR > 1 ? ", " : ""), $1, $2}')
  echo "$line, no crash"
  summary+=("$(printf '%-13s %s, no crash' "corpus replay" "$line")")
else
  echo "FAILED"
  failed=$((failed + 1))
  summary+=("$(printf '%-13s FAILED: a corpus input crashes (counted as 1 failed)' "corpus replay")")
  stage_failed "corpus replay" "$log" "$(tail -n 40 "$log")"
fi

# -- 4. integration tests: the real broker and peers in Python -----------------------------------
t=$SECONDS
log=$LOGS/integration.log
MUSTER_BIN=$PWD/.build/debug/muster run integration "$log" python3 -m pytest integration -q; status=$?
# pytest -q ends with e.g. "1 failed, 29 passed, 1 skipped in 201.30s (0:03:21)".
result=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|error|errors|deselected|xfailed|xpassed)\b.* in [0-9.]+s' "$log" | tail -n1)
count() { sed -nE "s/.*\b([0-9]+) $1\b.*/\1/p" <<<"$result" | head -n1; }
i_passed=$(count passed); i_failed=$(count failed); i_errors=$(count 'errors?'); i_skipped=$(count skipped)
i_passed=${i_passed:-0} i_failed=$(( ${i_failed:-0} + ${i_errors:-0} )) i_skipped=${i_skipped:-0}
passed=$((passed + i_passed)); failed=$((failed + i_failed)); skipped=$((skipped + i_skipped))
line="$i_passed passed, $i_failed failed, $i_skipped skipped"
if [ "$status" = 0 ] && [ -n "$result" ]; then
  echo "$line ($(elapsed $t))"
  summary+=("$(printf '%-13s %s (%s)' integration "$line" "$(elapsed $t)")")
else
  if [ -z "$result" ] || [ "$i_failed" = 0 ]; then
    failed=$((failed + 1)); line="$line; pytest exited with $status (counted as 1 failed)"
  fi
  echo "$line ($(elapsed $t))"
  summary+=("$(printf '%-13s FAILED: %s' integration "$line")")
  stage_failed integration "$log" "$(grep -E '^(FAILED|ERROR) ' "$log")
…
$(tail -n 40 "$log")"
fi

# -- 4b. the classifier's figures on the held-out texts (measured, not asserted here: the bounds
#        are integration/test_classify.py's) -------------------------------------------------------
log=$LOGS/classifier.log
log1=$LOGS/classifier-second-set.log
if run classifier "$log" .build/debug/muster classify --eval integration/data/classify-heldout-3.tsv \
   && run "" "$log" .build/debug/muster classify --eval integration/data/classify-outofscope-3.tsv >/dev/null \
   && run "" "$log1" .build/debug/muster classify --eval integration/data/classify-heldout-2.tsv >/dev/null; then
  pick() { sed -nE "s/^$1 \([^)]*\): [0-9]+\/[0-9]+ = ([0-9.]+ %)$/\1/p" "${2:-$log}" | head -n1; }
  # the third set is the clean one (written apart, measured once: docs/CLASSIFIER.md)
  line="held-out: $(pick 'right department') right, $(pick 'wrong department') wrong, $(pick 'to triage') to triage; out of scope to triage $(pick 'out of scope to triage'); second set $(pick 'right department' "$log1") right, $(pick 'wrong department' "$log1") wrong"
  echo "$line"
  summary+=("$(printf '%-13s %s' classifier "$line")")
else
  echo "FAILED"
  failed=$((failed + 1))
  summary+=("$(printf '%-13s FAILED: muster classify --eval (counted as 1 failed)' classifier)")
  stage_failed classifier "$log" "$(tail -n 20 "$log")"
fi

# -- 5. fuzzing: the libFuzzer builds, then FUZZ_SECONDS per target ------------------------------
if [ "$FUZZ_SECONDS" = 0 ]; then
  summary+=("$(printf '%-13s not run (FUZZ_SECONDS=0)' fuzz)")
else
  t=$SECONDS
  log=$LOGS/fuzz-build.log
  built=yes
  for product in FuzzWire FuzzCore; do
    run "" "$log" "$SWIFT" build -c release --sanitize=fuzzer --product "$product" --scratch-path .build-fuzz -Xswiftc -DFUZZING >/dev/null || built=no
    [ "$built" = no ] && break
  done
  if [ "$built" = no ]; then
    printf '%-13s FAILED: the fuzz build (%s)\n' fuzz "$(elapsed $t)"
    failed=$((failed + 1))
    summary+=("$(printf '%-13s FAILED: the fuzz build (counted as 1 failed)' fuzz)")
    stage_failed "fuzz build" "$log" "$(cat "$log")"
  else
    log=$LOGS/fuzz.log
    run fuzz "$log" scripts/fuzz.sh "$FUZZ_RUNS" "$FUZZ_SECONDS"; status=$?
    # scripts/fuzz.sh prints "fuzzing wire: …", then libFuzzer's "stat::number_of_executed_units: N"
    # and, after a crash, "SUMMARY: …" and "fuzz target wire FAILED".
    line=$(awk '
      /^fuzzing [a-z]+:/ { t = $2; sub(":", "", t); order[++n] = t; crashes[t] = 0; runs[t] = "?" }
      /stat::number_of_executed_units:/ { runs[t] = $2 }
      /^SUMMARY: / || /FAILED/ { crashes[t] = 1 }
      END { for (i = 1; i <= n; i++) { t = order[i]; printf "%sFuzz%s%s %s inputs, %d crash%s", (i > 1 ? "; " : ""),
              toupper(substr(t, 1, 1)), substr(t, 2), runs[t], crashes[t], (crashes[t] == 1 ? "" : "es") } }' "$log")
    line=$(sed -E ':a;s/([0-9])([0-9]{3})( |,|$)/\1,\2\3/;ta' <<<"$line")
    if [ "$status" = 0 ]; then
      echo "$line ($(elapsed $t))"
      summary+=("$(printf '%-13s %s (%s each at most)' fuzz "$line" "${FUZZ_SECONDS}s")")
    else
      echo "FAILED: $line ($(elapsed $t))"
      failed=$((failed + 1))
      summary+=("$(printf '%-13s FAILED: %s (counted as 1 failed; inputs in .build-fuzz/crashes)' fuzz "$line")")
      stage_failed fuzz "$log" "$(tail -n 30 "$log")"
    fi
  fi
fi

finish
