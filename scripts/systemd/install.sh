#!/usr/bin/env bash
# Installs broadcaster as systemd units: N instances broadcaster@0..N-1 grouped by
# broadcaster.target, the shared environment file, and the sysctl drop-in. Idempotent.
#
#   sudo scripts/systemd/install.sh [--instances N] [--app-dir DIR] [--node PATH] [--no-sysctl] [--no-start]
#
# --instances  number of processes (default: number of CPU cores)
# --app-dir    where the built package lives, with dist/ and node_modules/ (default: /opt/broadcaster)
# --node       the Node.js binary the units run (20, 22 or 24; default: `command -v node`, the first on PATH)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
instances="$(nproc)"
app_dir=/opt/broadcaster
node_bin="$(command -v node || true)"
sysctl=1
start=1
unit_dir="${UNIT_DIR:-/etc/systemd/system}"
etc_dir="${ETC_DIR:-/etc/broadcaster}"
sysctl_dir="${SYSCTL_DIR:-/etc/sysctl.d}"

while [ $# -gt 0 ]; do
  case "$1" in
    --instances) instances="$2"; shift 2 ;;
    --app-dir) app_dir="$2"; shift 2 ;;
    --node) node_bin="$2"; shift 2 ;;
    --no-sysctl) sysctl=0; shift ;;
    --no-start) start=0; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1; see --help" >&2; exit 2 ;;
  esac
done

case "$instances" in ''|*[!0-9]*) echo "install.sh: --instances must be a positive integer" >&2; exit 2 ;; esac
[ "$instances" -ge 1 ] || { echo "install.sh: --instances must be at least 1" >&2; exit 2; }
[ -n "$node_bin" ] && [ -x "$node_bin" ] || { echo "install.sh: no Node.js binary found; install Node.js 24, 22 or 20 or pass --node PATH" >&2; exit 2; }
case "$node_bin" in /*) ;; *) node_bin="$(cd "$(dirname "$node_bin")" && pwd)/$(basename "$node_bin")" ;; esac
[ -f "$app_dir/dist/src/cli/main.js" ] || { echo "install.sh: $app_dir/dist/src/cli/main.js missing; run 'npm ci && npm run build' in $app_dir or pass --app-dir" >&2; exit 2; }
# The units run this node: check now that it loads a native uWebSockets.js build from the app.
check='try{const b=require(process.argv[1]).uwsBuild;console.log(process.version+" uWS "+b.id+" "+b.version)}catch(e){console.log(e.message);process.exit(1)}'
if ! uws_check="$("$node_bin" -e "$check" "$app_dir/dist/src/uws/uws.js" 2>&1)"; then
  echo "install.sh: $node_bin cannot run broadcaster: $uws_check" >&2
  echo "install.sh: pass --node with a supported Node.js (docs/DEPLOYMENT.md, Support matrix)" >&2
  exit 2
fi
echo "install.sh: units will run $node_bin ($uws_check)"

install -d -m 0755 "$unit_dir" "$etc_dir"
sed -e "s#^ExecStart=.*#ExecStart=$node_bin $app_dir/dist/src/cli/main.js#" \
    -e "s#^WorkingDirectory=.*#WorkingDirectory=$app_dir#" \
    "$here/broadcaster@.service" > "$unit_dir/broadcaster@.service"
install -m 0644 "$here/broadcaster.target" "$unit_dir/broadcaster.target"
if [ ! -e "$etc_dir/broadcaster.env" ]; then
  install -m 0644 "$here/broadcaster.env.example" "$etc_dir/broadcaster.env"
  echo "wrote $etc_dir/broadcaster.env: review BROADCASTER_REDIS_URL and the ports"
fi
if [ "$instances" -gt 1 ] && ! grep -q '^BROADCASTER_REDIS_URL=..*' "$etc_dir/broadcaster.env"; then
  echo "install.sh: $instances instances need BROADCASTER_REDIS_URL in $etc_dir/broadcaster.env (the in-memory broker does not cross processes)" >&2
  exit 2
fi
if [ "$sysctl" = 1 ]; then
  install -m 0644 "$here/99-broadcaster.conf" "$sysctl_dir/99-broadcaster.conf"
  sysctl -q -p "$sysctl_dir/99-broadcaster.conf" || echo "warning: some sysctl keys were not applied (container?)" >&2
fi

systemctl daemon-reload
systemctl enable broadcaster.target
# Enable instances 0..N-1; disable any higher instance left from a bigger install.
for ((i = 0; i < instances; i++)); do systemctl enable "broadcaster@$i.service"; done
for unit in $(systemctl list-units --all --plain --no-legend 'broadcaster@*.service' | awk '{print $1}'); do
  n="${unit#broadcaster@}"; n="${n%.service}"
  if [ "$n" -ge "$instances" ] 2>/dev/null; then systemctl disable --now "$unit"; fi
done
if [ "$start" = 1 ]; then systemctl start broadcaster.target; fi
echo "broadcaster: $instances instance(s) enabled; status: systemctl list-units 'broadcaster@*'"
