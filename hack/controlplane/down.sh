#!/usr/bin/env bash
# Stop the local control plane started by up.sh and remove its etcd data (tmpfs).
# Stops components in reverse start order: SIGTERM, then SIGKILL after a grace period.
# Leaves pki/ and logs/ in the state dir (certs are reused by the next up; logs help debugging);
# set SPIDERPOOL_TS_PURGE=1 to delete the whole state dir too.
# Verifies that no process referencing the state dir or etcd data dir remains.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

GRACE="${SPIDERPOOL_TS_STOP_GRACE:-10}"

if [[ "${SPIDERPOOL_TS_CLUSTER_LOCK_HELD:-}" != 1 && -d "$STATE_DIR" ]]; then
  exec 8>"$STATE_DIR/.lock"
  if ! flock -n 8; then
    cp_log "waiting for another up/down on $STATE_DIR to finish"
    flock -w "${SPIDERPOOL_TS_LOCK_TIMEOUT:-3600}" 8 || { cp_log "timed out waiting for $STATE_DIR/.lock"; exit 1; }
  fi
fi

# wait until none of the given pids is alive, or the deadline passes; prints survivors
wait_gone() {
  local deadline=$((SECONDS + $1)) p alive
  shift
  while true; do
    alive=()
    for p in "$@"; do is_our_pid "$p" && alive+=("$p"); done
    ((${#alive[@]} == 0)) && return 0
    if ((SECONDS >= deadline)); then
      printf '%s\n' "${alive[@]}"
      return 0
    fi
    sleep 0.2
  done
}

stop_pids() { # label pids...
  local label="$1" survivors=()
  shift
  (($# > 0)) || return 0
  kill -TERM "$@" 2>/dev/null || true
  mapfile -t survivors < <(wait_gone "$GRACE" "$@")
  if ((${#survivors[@]} > 0)); then
    cp_log "$label did not exit within ${GRACE}s after SIGTERM; sending SIGKILL to ${survivors[*]}"
    kill -KILL "${survivors[@]}" 2>/dev/null || true
    mapfile -t survivors < <(wait_gone 5 "${survivors[@]}")
    ((${#survivors[@]} == 0)) || cp_log "WARNING: $label still alive after SIGKILL: ${survivors[*]}"
  fi
}

stopped=0
for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
  c="${COMPONENTS[$i]}"
  if pid="$(component_pid "$c")"; then
    cp_log "stopping $c (pid $pid)"
    stop_pids "$c" "$pid"
    stopped=$((stopped + 1))
  fi
  rm -f "$RUN_DIR/$c.pid"
done

# Anything left that belongs to this cluster (e.g. a pid file was lost)?
mapfile -t strays < <(stray_pids)
if ((${#strays[@]} > 0)); then
  cp_log "stopping leftover processes of this cluster: ${strays[*]}"
  stop_pids leftovers "${strays[@]}"
fi

if [[ -d "$ETCD_DATA_DIR" ]]; then
  # If the data dir is a mount point we created elsewhere, unmount it first.
  if mountpoint -q "$ETCD_DATA_DIR" 2>/dev/null; then umount "$ETCD_DATA_DIR" || true; fi
  rm -rf "$ETCD_DATA_DIR"
fi
rm -f "$STATE_DIR/cluster.env"

mapfile -t left < <(stray_pids)
if ((${#left[@]} > 0)); then
  cp_log "ERROR: processes still running: ${left[*]}"
  ps -o pid,comm,args -p "$(IFS=,; echo "${left[*]}")" >&2 || true
  exit 1
fi

if [[ "${SPIDERPOOL_TS_PURGE:-}" == 1 ]]; then
  rm -rf "$STATE_DIR"
  cp_log "removed $STATE_DIR"
fi

if ((stopped > 0)); then
  cp_log "cluster stopped; no control-plane processes left (logs kept in $LOG_DIR)"
else
  cp_log "cluster was not running; nothing left behind"
fi
