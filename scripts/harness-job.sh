# The shared harness's durable job against one broker, for the scripts that measure it
# (instructions-per-submit.sh, cost-per-submit.sh, stalls.sh, thread-states.sh,
# experiments/timeline.sh); sourced, not run. The caller sets BIN and its default N, then:
# harness_setup NAME; harness_broker [COMMAND…]; harness_agency; (its own start of measuring);
# harness_intake; (its own end).
#   N SUBMITs, W in flight, RATE>0: paced instead; HARNESS: the harness's folder;
#   SYNC=normal|off: the broker's synchronous setting instead of config/muster.yaml's (full), to
#   read what the commit's fsync costs beside everything else.
W=${W:-1000}; RATE=${RATE:-0}; HARNESS=${HARNESS:-../shared/bench-peers}; SYNC=${SYNC:-}

# A scratch folder ($work, removed at exit unless KEEP is set), the harness's C client, an endpoint.
harness_setup() {
    work=$(mktemp -d "/tmp/muster-$1.XXXX")
    trap 'kill -9 ${broker:-} 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
    gcc -O2 -o "$work/musterc" "$HARNESS/musterc.c" -lzmq
    ep="tcp://127.0.0.1:$((20000 + RANDOM % 20000))"
    config=config/muster.yaml
    if [ -n "$SYNC" ]; then
        case $SYNC in full|normal|off) ;; *) echo "SYNC must be full, normal or off" >&2; exit 1 ;; esac
        cp -r config "$work/config"
        config=$work/config/muster.yaml
        sed -i "s/^  synchronous: [a-z]*/  synchronous: $SYNC/" "$config"
        grep -q "^  synchronous: $SYNC" "$config" || { echo "no synchronous: line in config/muster.yaml" >&2; exit 1; }
    fi
}

# Starts the broker on "$ep" with the job's config and a fresh database, and sets $broker. Its
# arguments, if any, are the command to run instead of "$BIN" (valgrind … a copy of it).
harness_broker() {
    "${@:-$BIN}" broker --insecure --config "$config" --db "$work/m.db" --endpoint "$ep" > "$work/broker.log" 2>&1 &
    broker=$!
}

# Waits for the broker to answer, then connects the 热力 agency and waits until it is ready.
harness_agency() {
    until timeout 5 "$work/musterc" hello "$ep" 30 > /dev/null 2>&1; do sleep 0.2; done
    "$work/musterc" agency "$ep" reli "$N" 600 1 > "$work/agency.out" 2>&1 &
    agency=$!
    until grep -q ready "$work/agency.out"; do sleep 0.2; done
}

# Submits the N cases and waits until the agency has every DISPATCH.
harness_intake() {
    "$work/musterc" intake "$ep" heating_not_warm "$N" "$W" 600 "$RATE" > "$work/intake.out"
    wait "$agency"
}
