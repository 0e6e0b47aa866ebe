# shellcheck shell=bash
# shellcheck disable=SC2034 # variables are used by the scripts that source this file
# Shared settings for hack/controlplane/{up,down}.sh. Sourced, not executed.
# Every value can be overridden from the environment.

K8S_VERSION="${K8S_VERSION:-v1.33.13}"
CACHE_ROOT="${SPIDERPOOL_TS_CACHE:-$HOME/.cache/spiderpool-ts}"
K8S_BIN="$CACHE_ROOT/k8s/$K8S_VERSION/bin"

STATE_DIR="${SPIDERPOOL_TS_CLUSTER_DIR:-/tmp/spiderpool-ts-cluster}"
LOG_DIR="$STATE_DIR/logs"
PKI_DIR="$STATE_DIR/pki"
RUN_DIR="$STATE_DIR/run"
CONF_DIR="$STATE_DIR/config"
KUBECONFIG_PATH="$STATE_DIR/kubeconfig"

# etcd keeps its data on tmpfs (/dev/shm): fsync on a disk is the main source of apiserver
# latency in small test clusters, and the data is throwaway anyway. The directory name is derived
# from the state dir so two clusters with different state dirs do not share it.
ETCD_DATA_DIR="${SPIDERPOOL_TS_ETCD_DATA_DIR:-/dev/shm/spiderpool-ts-etcd-$(printf '%s' "$STATE_DIR" | cksum | cut -d' ' -f1)}"

# All listeners are on 127.0.0.1. Non-default etcd ports so a system etcd cannot collide.
ETCD_CLIENT_PORT="${SPIDERPOOL_TS_ETCD_PORT:-23790}"
ETCD_PEER_PORT="${SPIDERPOOL_TS_ETCD_PEER_PORT:-23800}"
APISERVER_PORT="${SPIDERPOOL_TS_APISERVER_PORT:-6443}"
KCM_PORT="${SPIDERPOOL_TS_KCM_PORT:-10257}"
SCHEDULER_PORT="${SPIDERPOOL_TS_SCHEDULER_PORT:-10259}"
SERVER="https://127.0.0.1:$APISERVER_PORT"

SERVICE_CIDR="${SPIDERPOOL_TS_SERVICE_CIDR:-10.96.0.0/16}"
SERVICE_FIRST_IP="${SPIDERPOOL_TS_SERVICE_FIRST_IP:-10.96.0.1}"

# Start order; down.sh stops in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler)

cp_log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# pid recorded for a component, if its process is still alive and still ours (the command line
# mentions our state dir or etcd data dir, so a recycled pid is never mistaken for ours).
component_pid() {
  local name="$1" pid
  [[ -f "$RUN_DIR/$name.pid" ]] || return 1
  pid="$(cat "$RUN_DIR/$name.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  is_our_pid "$pid" || return 1
  printf '%s\n' "$pid"
}

is_our_pid() {
  local pid="$1" cmdline
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$STATE_DIR/"* || "$cmdline" == *"$ETCD_DATA_DIR"* ]]
}

# Processes whose command line references this cluster's state dir or etcd data dir
# (covers a lost pid file). Prints pids.
stray_pids() {
  local p
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    [[ "$p" == "$$" || "$p" == "$BASHPID" ]] && continue
    # only the binaries we start (avoid matching editors or shells that mention the path)
    case "$(cat "/proc/$p/comm" 2>/dev/null)" in
      etcd | kube-apiserver | kube-controller | kube-scheduler) is_our_pid "$p" && printf '%s\n' "$p" ;;
    esac
  done
  return 0
}

# curl against a component's https endpoint, authenticated as the cluster admin.
admin_curl() {
  curl -sS --max-time 5 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" "$@"
}
