#!/bin/sh
# Runs one test program headless: a private profile (XDG dirs in a temp
# dir), its own session bus and its own Xvfb display.
set -eu

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cb-test.XXXXXX")
bus_pid=""
cleanup() {
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
  rm -rf "$tmp" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

export HOME="$tmp/home"
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config"
export XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/runtime"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export GDK_BACKEND=x11
# Whatever the test makes in a temp dir goes with the rest.
export TMPDIR="$tmp/tmp"
mkdir -p "$TMPDIR"

# Our own bus with no activatable services: whatever desktop services the
# machine has (portals, the accessibility registry) stay out of the tests,
# so results do not depend on them and nothing writes into the TAP stream.
cat >"$tmp/bus.conf" <<CONF
<busconfig>
  <type>session</type>
  <listen>unix:dir=$tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$tmp/bus.conf" --nofork --nosyslog --print-address=3 \
  3>"$tmp/bus-address" >&2 &
bus_pid=$!
for _ in $(seq 100); do
  [ -s "$tmp/bus-address" ] && break
  sleep 0.05
done
DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$tmp/bus-address")
export DBUS_SESSION_BUS_ADDRESS

# -noreset: otherwise Xvfb resets whenever its last client leaves, and a
# browser started by the next test case can hit "cannot open display".
xvfb-run -a -s "-screen 0 1280x900x24 -nolisten tcp -noreset" "$@"
