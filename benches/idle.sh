#!/usr/bin/env bash
# The idle cost of a still desk: `ioc-console run --layout layouts/desk.toml` against
# `ioc-console sim` in another process, in a 1600×900 window under Xvfb (no GPU: lavapipe draws
# on the processor). Measures the console's CPU (utime + stime from /proc) and its frames
# (RUST_LOG=ioc_console::frames=trace) over SECONDS, once with `low_power = "off"` (clocks tick
# seconds: the baseline) and once as configured by default (`auto`: sparing on a software
# renderer), and prints both and their ratio.
#
#   bash benches/idle.sh [SECONDS] [BINARY]      (defaults: 60, target/release or target/debug)
#
# Needs: xvfb, xdotool (packaging/dev.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
BIN=${2:-}
if [ -z "$BIN" ]; then
  for b in target/release/ioc-console target/debug/ioc-console; do
    [ -x "$b" ] && BIN=$b && break
  done
fi
[ -x "${BIN:-}" ] || { echo "build the console first (cargo build --release)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/ioc-idle.XXXXXX)
export XDG_RUNTIME_DIR=$WORK/rt
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
DISP=:$(( 90 + RANDOM % 9 ))
Xvfb "$DISP" -screen 0 1920x1080x24 >/dev/null 2>&1 &
XV=$!
PORT=$(( 18000 + RANDOM % 1000 ))
"$BIN" sim --listen 127.0.0.1:$PORT >"$WORK/sim.log" 2>&1 &
SIM=$!
cleanup() { kill "$SIM" "$XV" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
sleep 2
HZ=$(getconf CLK_TCK)

# measure NAME LOW_POWER: prints "NAME cpu% frames"
measure() {
  local name=$1 low=$2
  printf 'low_power = "%s"\n' "$low" >"$WORK/config.toml"
  DISPLAY=$DISP RUST_LOG=warn,ioc_console::frames=trace "$BIN" --config "$WORK/config.toml" \
    run --layout layouts/desk.toml --backend "http://127.0.0.1:$PORT/api/v1" >"$WORK/$name.log" 2>&1 &
  local c=$!
  sleep 6
  local wid
  wid=$(DISPLAY=$DISP xdotool search --pid "$c" 2>/dev/null | head -1 || true)
  [ -n "$wid" ] && DISPLAY=$DISP xdotool windowsize "$wid" 1600 900
  sleep 10
  local f0 t0 f1 t1
  f0=$(grep -c "desk frame" "$WORK/$name.log" || true)
  t0=$(awk '{print $14+$15}' "/proc/$c/stat")
  sleep "$SECS"
  t1=$(awk '{print $14+$15}' "/proc/$c/stat")
  f1=$(grep -c "desk frame" "$WORK/$name.log" || true)
  kill "$c"; wait "$c" 2>/dev/null || true
  python3 -c "print(f'$name {100*($t1-$t0)/$HZ/$SECS:.1f} {$f1-$f0}')"
}
base=$(measure seconds off)
auto=$(measure auto auto)
python3 - "$SECS" "$base" "$auto" <<'PY'
import sys
secs = int(sys.argv[1])
rows = [sys.argv[2].split(), sys.argv[3].split()]
print(f"| mode | CPU of one core | frames in {secs} s | CPU per frame |")
print("| --- | --- | --- | --- |")
for name, cpu, frames in rows:
    cpu, frames = float(cpu), int(frames)
    per = f"{cpu * secs * 10 / frames:.0f} ms" if frames else "–"
    label = {"seconds": 'low_power = "off" (baseline: clocks tick seconds)',
             "auto": 'low_power = "auto" (software renderer: sparing)'}[name]
    print(f"| {label} | {cpu:.1f} % | {frames} | {per} |")
b, a = float(rows[0][1]), float(rows[1][1])
print(f"\nratio auto / baseline: {a / b:.3f}" if b > 0 else "")
PY
