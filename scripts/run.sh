#!/usr/bin/env bash
# make run: the broker on ./data/muster.db and every agency adapter of config/adapters (a simulated
# department for each agency config/routing.yaml names: 城管 公安 住建 热力 供水 交通 市场监管), each
# its own process. Ctrl-C stops them all.
set -euo pipefail
BIN=${1:-.build/debug/muster}
ENDPOINT=${MUSTER_ENDPOINT:-tcp://127.0.0.1:7400}
mkdir -p data/logs

# CURVE is on by default: on first start write the broker's key and the sample peers' keys
# (config/peers.yaml names them) under data/keys; later starts find them there.
"$BIN" keys init --config config/muster.yaml
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$BIN" broker --config config/muster.yaml --db data/muster.db --endpoint "$ENDPOINT" --metrics "${MUSTER_METRICS:-127.0.0.1:9400}" > data/logs/broker.out 2> data/logs/broker.log &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" data/logs/broker.out 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" data/logs/broker.out || { echo "broker did not start; see data/logs/broker.log"; cat data/logs/broker.log; exit 1; }
cat data/logs/broker.out

# The five departments run as their plugins (config/plugins: 城管 数字城管, 公安 110, 住建, 热力,
# 供水) against local stand-ins of their own systems (scripts/standins.py, one port, signing with
# data/keys/standins.secret); MUSTER_DEPARTMENTS=simulated runs the simulated ones instead.
# Every other adapter config with an agency (交通, 市场监管) runs as config/adapters has it.
# config/plugins also holds the 12345 platform's intake API (hotline12345.yaml, 127.0.0.1:8720)
# and the petition office's (petition.yaml, 127.0.0.1:8730).
# Intake adapters in config/adapters (no agency, downstream none) only hold a session and would
# take the adapter id hotline-12345 from it, so they are not started.
started=()
plugged=()
if [ "${MUSTER_DEPARTMENTS:-plugins}" != simulated ]; then
  for secret in standins hotline-platform petition-office; do  # the stand-ins' signing key; the 12345 platform's and the petition office's (config/plugins)
    [ -f "data/keys/$secret.secret" ] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "data/keys/$secret.secret"; chmod 600 "data/keys/$secret.secret"; }
  done
  python3 "$(dirname "$0")/standins.py" 8700 data/keys/standins.secret > data/logs/standins.log 2>&1 &
  pids+=($!)
  for cfg in config/plugins/*.yaml; do
    a=$(basename "$cfg" .yaml)
    "$BIN" adapter --config "$cfg" --endpoint "$ENDPOINT" > "data/logs/$a.out" 2> "data/logs/$a.log" &
    pids+=($!)
    plugged+=("$(sed -n 's/^agency: *//p' "$cfg")")
    started+=("$a $(sed -n 's/^name: *//p' "$cfg") — plugin: $a")
  done
  started+=("(their systems: scripts/standins.py on http://127.0.0.1:8700, log data/logs/standins.log)")
fi
for cfg in config/adapters/*.yaml; do
  a=$(basename "$cfg" .yaml)
  agency=$(sed -n 's/^agency: *//p' "$cfg")
  if [ -n "$agency" ] && printf '%s\n' "${plugged[@]}" | grep -qx "$agency"; then
    continue  # this department runs as its plugin
  fi
  if ! grep -q '^agency:' "$cfg"; then
    echo "not starting $cfg: no agency (an intake adapter; run it with $BIN adapter --config $cfg if you need it)"
    continue
  fi
  "$BIN" adapter --config "$cfg" --endpoint "$ENDPOINT" > "data/logs/$a.out" 2> "data/logs/$a.log" &
  pids+=($!)
  started+=("$a $(sed -n 's/^name: *//p' "$cfg")")
done
# The operations centre's screen (一屏观全域): a monitor peer serving HTTP (docs/OPERATIONS.md).
WEB="${MUSTER_WEB:-127.0.0.1:8800}"
"$BIN" web --listen "$WEB" --endpoint "$ENDPOINT" > data/logs/web.out 2> data/logs/web.log &
pids+=($!)

cat <<TXT

Muster is running: broker on $ENDPOINT (db data/muster.db, logs in data/logs/),
the centre's screen on http://$WEB/ (muster web), metrics and health on http://${MUSTER_METRICS:-127.0.0.1:9400}/ (muster status),
adapters (config/plugins and config/adapters):
TXT
printf '  %s\n' "${started[@]}"
cat <<TXT

CURVE is on: keys in data/keys, admitted peers in config/peers.yaml. The CLI below uses
data/keys/broker.pub and data/keys/operator.key (the 城运中心 operator's key) from this folder.

In another terminal, submit a complaint and follow it:

  $BIN submit --title "解放路占道经营" --description "流动摊贩占道" \\
      --grid zz/erqi/jiefanglu --address "解放路100号"
  $BIN case C0000000001
  $BIN cases --state 已办结                      # or --state finished
  $BIN verify C0000000001 --passed --note "现场核查：已无摊贩"
  $BIN evaluate C0000000001 --satisfaction 满意
  $BIN stats

Press Ctrl-C to stop everything.
TXT
wait "${pids[0]}"
