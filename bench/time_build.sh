#!/usr/bin/env bash
# Clean-build time of one profile (issue 27): `bench/time_build.sh PROFILE`. A profile whose
# target directory is absent is built from scratch (the crates already downloaded); the load
# averages before and after land next to the timing in bench/out/builds/PROFILE.log.
set -euo pipefail
cd "$(dirname "$0")/.."
p="$1"
dir="target/$p"
if [ -e "$dir/ilert-mcp" ]; then
  echo "$dir exists: not a clean build (move it away first)" >&2
  exit 2
fi
mkdir -p bench/out/builds
log="bench/out/builds/$p.log"
{
  echo "load before: $(cat /proc/loadavg)"
  /usr/bin/time -f "wall %e s, user %U s, system %S s, %P CPU" \
    cargo build --locked --profile "$p" --bin ilert-mcp 2>&1 | grep -E "^wall|Finished|^error" || true
  echo "load after: $(cat /proc/loadavg)"
} > "$log" 2>&1
cat "$log"
