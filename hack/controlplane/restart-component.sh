#!/usr/bin/env bash
# Restart one component of a control plane started by up.sh, with the command line it was started
# with (recorded by up.sh as the second "=== " line of <dir>/logs/<name>.log), keeping its data
# (etcd's data dir is not touched). Used by the chaos suite (tests/chaos) on its own cluster instance.
#
#   hack/controlplane/restart-component.sh <etcd|kube-apiserver|kube-controller-manager|kube-scheduler> [--kill] [--down-seconds N]
#
# --kill: SIGKILL (a crash) instead of SIGTERM (a clean stop); --down-seconds: stay down that long.
# Honours the same environment as up.sh/down.sh (SPIDERPOOL_TS_CLUSTER_DIR, ports: see lib.sh).
# Exits once the restarted component answers its health endpoint (etcd /health, apiserver /readyz).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

name="${1:-}"
shift || true
signal=TERM
down=0
while (($#)); do
  case "$1" in
    --kill) signal=KILL ;;
    --down-seconds) down="$2"; shift ;;
    *) cp_log "unknown option $1"; exit 2 ;;
  esac
  shift
done
case "$name" in
  etcd | kube-apiserver | kube-controller-manager | kube-scheduler) ;;
  *) cp_log "usage: $0 <etcd|kube-apiserver|kube-controller-manager|kube-scheduler> [--kill] [--down-seconds N]"; exit 2 ;;
esac

log="$LOG_DIR/$name.log"
# The command line up.sh recorded: printf %q words, safe to eval into an array.
cmdline="$(grep -m1 -E "^=== [^0-9]" "$log" | sed 's/^=== //')" || true
[[ -n "$cmdline" ]] || { cp_log "no recorded command line in $log"; exit 1; }
eval "cmd=( $cmdline )"

if pid="$(component_pid "$name")"; then
  cp_log "stopping $name (pid $pid, SIG$signal)"
  kill -"$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do is_our_pid "$pid" || break; sleep 0.1; done
  if is_our_pid "$pid"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
else
  cp_log "$name was not running"
fi
((down > 0)) && sleep "$down"

printf '=== %s restarting %s (restart-component.sh)\n' "$(date -Is)" "$name" >>"$log"
# As up.sh: own session, no inherited lock fd, $! is the component's pid.
setsid "${cmd[@]}" </dev/null >>"$log" 2>&1 8>&- &
pid=$!
printf '%s\n' "$pid" >"$RUN_DIR/$name.pid"
cp_log "started $name (pid $pid)"

deadline=$((SECONDS + ${SPIDERPOOL_TS_START_TIMEOUT:-120}))
healthy() {
  case "$name" in
    etcd) curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" | grep -q '"health":"true"' ;;
    kube-apiserver) [[ "$(admin_curl "$SERVER/readyz" 2>/dev/null)" == ok ]] ;;
    kube-controller-manager) [[ "$(curl -sS --max-time 5 --cacert "$PKI_DIR/ca.crt" "https://127.0.0.1:$KCM_PORT/healthz" 2>/dev/null)" == ok ]] ;;
    kube-scheduler) [[ "$(curl -sS --max-time 5 --cacert "$PKI_DIR/ca.crt" "https://127.0.0.1:$SCHEDULER_PORT/healthz" 2>/dev/null)" == ok ]] ;;
  esac
}
until healthy; do
  component_pid "$name" >/dev/null || { cp_log "$name exited after restart; see $log"; tail -n 20 "$log" >&2; exit 1; }
  ((SECONDS < deadline)) || { cp_log "$name not healthy ${SPIDERPOOL_TS_START_TIMEOUT:-120}s after restart"; exit 1; }
  sleep 0.3
done
cp_log "$name healthy again"
