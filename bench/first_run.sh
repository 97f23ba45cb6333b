#!/usr/bin/env bash
# The README's first command timed as a newcomer meets it (issue 27): a fresh clone of this
# checkout's HEAD, an empty CARGO_HOME (so every crate is downloaded), then
# `cargo run --release -- demo` until the demo prints its banner (sandbox and server listening).
# Prints the wall time and the load averages before and after; writes bench/out/first-run.log.
#   bench/first_run.sh
# Needs the network for the crate downloads. Runs the demo on free loopback ports and stops it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/ilert-mcp-first-run.XXXXXX")"
demo_pid=
cleanup() {
  [ -n "$demo_pid" ] && kill -- -"$demo_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
git clone --quiet "$ROOT" "$scratch/clone"
mkdir -p "$ROOT/bench/out" "$scratch/cargo-home" "$scratch/data"
log="$ROOT/bench/out/first-run.log"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# rustup keeps the toolchain outside CARGO_HOME; only the crates and the registry index start empty.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
echo "load before: $(cat /proc/loadavg)" > "$log"
start=$(date +%s.%N)
cd "$scratch/clone"
set -m
CARGO_HOME="$scratch/cargo-home" XDG_DATA_HOME="$scratch/data" \
  timeout 1200 cargo run --release -- demo --bind "127.0.0.1:$(free_port)" \
  --sandbox-bind "127.0.0.1:$(free_port)" > "$scratch/demo.out" 2> "$scratch/demo.err" &
demo_pid=$!
set +m
ready=
for _ in $(seq 1 1200); do
  if grep -q "/mcp" "$scratch/demo.out" 2>/dev/null; then ready=1; break; fi
  if ! kill -0 "$demo_pid" 2>/dev/null; then break; fi
  sleep 1
done
end=$(date +%s.%N)
echo "load after: $(cat /proc/loadavg)" >> "$log"
echo "crates downloaded: $(grep -cE '^ *Downloaded [a-zA-Z0-9_-]+ v' "$scratch/demo.err" || true)," \
  "compiled: $(grep -cE '^ *Compiling ' "$scratch/demo.err" || true)" >> "$log"
grep -E "Downloaded [0-9]+ crates|Finished" "$scratch/demo.err" >> "$log" || true
if [ -z "$ready" ]; then
  tail -20 "$scratch/demo.err" >> "$log"
  cat "$log"
  echo "the demo did not come up" >&2
  exit 1
fi
printf 'first `cargo run --release -- demo` (fresh clone, empty CARGO_HOME): %.0f s to the banner\n' \
  "$(echo "$end - $start" | bc)" >> "$log"
cat "$log"
