#!/usr/bin/env bash
# Runs a command with a private moto server on a free loopback port, exported as MOTO_ENDPOINT,
# and stops the server afterwards whatever the command's outcome.
set -euo pipefail
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
log=$(mktemp -t moto.XXXXXX.log)
python3 "$(dirname "$0")/moto-server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then break; fi
  if ! kill -0 $pid 2>/dev/null; then echo "moto server exited:" >&2; cat "$log" >&2; exit 2; fi
  sleep 0.2
done
export MOTO_ENDPOINT="http://127.0.0.1:$port"
"$@"
