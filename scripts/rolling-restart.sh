#!/usr/bin/env bash
# Restarts broadcaster@N systemd instances one at a time without leaving the public port
# unserved: before each restart it checks that another instance is ready, and after it waits
# until the restarted instance answers 200 on its admin /readyz. Clients of the restarted
# instance get close 1001 and reconnect to the same port, where the kernel hands them to the
# instances still listening.
#
#   scripts/rolling-restart.sh [--instances "0 1 2 3"] [--admin-port 9100] [--admin-host 127.0.0.1] [--timeout 60]
#
# --instances   instance numbers (default: the active broadcaster@N units)
# --admin-port  BROADCASTER_ADMIN_PORT of the instances (default: from /etc/broadcaster/broadcaster.env, else 9100)
# --timeout     seconds to wait for each instance to become ready (default 60)
# Environment: SYSTEMCTL (default systemctl) and UNIT_PREFIX (default broadcaster@) select what is restarted.
set -euo pipefail

systemctl_cmd="${SYSTEMCTL:-systemctl}"
unit_prefix="${UNIT_PREFIX:-broadcaster@}"
instances=""
admin_host=127.0.0.1
admin_port=""
timeout=60
env_file="${ENV_FILE:-/etc/broadcaster/broadcaster.env}"

while [ $# -gt 0 ]; do
  case "$1" in
    --instances) instances="$2"; shift 2 ;;
    --admin-port) admin_port="$2"; shift 2 ;;
    --admin-host) admin_host="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "rolling-restart.sh: unknown argument $1; see --help" >&2; exit 2 ;;
  esac
done

if [ -z "$admin_port" ] && [ -r "$env_file" ]; then
  admin_port="$(sed -n 's/^BROADCASTER_ADMIN_PORT=\([0-9]*\).*/\1/p' "$env_file" | tail -n 1)"
fi
admin_port="${admin_port:-9100}"
if [ "$admin_port" = 0 ]; then
  echo "rolling-restart.sh: the admin listener is disabled (BROADCASTER_ADMIN_PORT=0); it is needed to see when an instance is ready" >&2
  exit 2
fi
if [ -z "$instances" ]; then
  instances="$($systemctl_cmd list-units --state=active --plain --no-legend "${unit_prefix}*.service" | awk '{print $1}' | sed -e "s/^${unit_prefix}//" -e 's/\.service$//' | sort -n | tr '\n' ' ')"
fi
set -- $instances
[ $# -ge 1 ] || { echo "rolling-restart.sh: no instances found; pass --instances" >&2; exit 2; }
if [ $# -lt 2 ]; then
  echo "rolling-restart.sh: warning: only one instance ($1): the port is unserved while it restarts; run at least two" >&2
fi

# ready N: true when instance N answers 200 on /readyz.
ready() {
  local url="http://$admin_host:$((admin_port + $1))/readyz"
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null
  else
    node -e "fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))" "$url"
  fi
}

log() { printf '%s rolling-restart: %s\n' "$(date -u +%FT%TZ)" "$*"; }

for i in "$@"; do
  if [ $# -ge 2 ]; then
    others_ready=0
    for j in "$@"; do
      if [ "$j" != "$i" ] && ready "$j"; then others_ready=1; break; fi
    done
    if [ "$others_ready" = 0 ]; then
      echo "rolling-restart.sh: no other instance is ready; restarting $unit_prefix$i now would leave the port unserved. Fix the others first." >&2
      exit 1
    fi
  fi
  log "restarting $unit_prefix$i.service"
  $systemctl_cmd restart "$unit_prefix$i.service"
  deadline=$(( $(date +%s) + timeout ))
  until ready "$i"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "rolling-restart.sh: $unit_prefix$i did not become ready within ${timeout}s; stopping here (see journalctl -u $unit_prefix$i)" >&2
      exit 1
    fi
    sleep 0.2
  done
  log "$unit_prefix$i.service is ready"
done
log "done: $# instance(s) restarted"
