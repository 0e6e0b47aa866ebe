#!/usr/bin/env bash
# Install the Debian packages the local control plane and the node simulator need:
#   etcd-server                  etcd 3.4.x (Kubernetes 1.33 needs >= 3.4.22 ... Debian 12 ships 3.4.23)
#   openssl                      certificate generation in up.sh
#   iproute2                     `ip netns`, veth, macvlan for the node simulator
#   containernetworking-plugins  real CNI binaries (macvlan, host-local, ...) in /usr/lib/cni
#   prometheus                   prometheus + promtool: the metrics integration test and `promtool test rules`
#   sockperf iperf3              `npm run bench:net` (latency, throughput between namespaces); iperf3's
#                                postinst asks whether to start a daemon: answered "no" (debconf preseed)
# Idempotent: does nothing when everything is installed; runs `apt-get update` only when a
# package has no install candidate in the current lists.
# Makes sure Debian's own etcd service does not run and squat 127.0.0.1:2379 (we run our own etcd
# on non-default ports from up.sh anyway).
set -euo pipefail

PKGS=(etcd-server openssl iproute2 containernetworking-plugins prometheus sockperf iperf3)
# Optional developer tools; a failure to install them is not fatal.
OPTIONAL_PKGS=(shellcheck)

log() { printf '[install-deps] %s\n' "$*" >&2; }

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

has_candidate() {
  local c
  c="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  [[ -n "$c" && "$c" != "(none)" ]]
}

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
    log "not root and no sudo: cannot install packages"; exit 1
  fi
fi

missing=()
for p in "${PKGS[@]}"; do is_installed "$p" || missing+=("$p"); done
opt_missing=()
if [[ "${SPIDERPOOL_TS_SKIP_OPTIONAL:-}" != 1 ]]; then
  for p in "${OPTIONAL_PKGS[@]}"; do is_installed "$p" || opt_missing+=("$p"); done
fi

if ((${#missing[@]} + ${#opt_missing[@]} > 0)); then
  export DEBIAN_FRONTEND=noninteractive
  # iperf3 would otherwise install and start a server daemon on 5201; we run our own, per namespace.
  if command -v debconf-set-selections >/dev/null 2>&1; then
    echo 'iperf3 iperf3/start_daemon boolean false' | "${SUDO[@]}" debconf-set-selections
  fi
  need_update=0
  for p in "${missing[@]}" "${opt_missing[@]}"; do has_candidate "$p" || need_update=1; done
  if ((need_update)); then
    log "apt-get update (some packages have no candidate in the current lists)"
    "${SUDO[@]}" apt-get update -qq
  fi

  # Keep package maintainer scripts from starting services (etcd would take 2379). If the
  # machine has no policy-rc.d we install a temporary one and remove it afterwards.
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${SUDO[@]}" chmod 0755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  cleanup_policy() { if ((created_policy)); then "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup_policy EXIT

  if ((${#missing[@]} > 0)); then
    log "installing: ${missing[*]}"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ((${#opt_missing[@]} > 0)); then
    log "installing optional: ${opt_missing[*]}"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${opt_missing[@]}" >/dev/null ||
      log "optional packages failed to install (ignored): ${opt_missing[*]}"
  fi
  cleanup_policy
  trap - EXIT
else
  log "all packages present: ${PKGS[*]}"
fi

# Debian's etcd and prometheus services: stop and disable them when systemd manages this machine
# (etcd would listen on 2379; prometheus on 9090 with its node exporter on 9100; tests run their own).
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  for svc in etcd prometheus prometheus-node-exporter iperf3; do
    if systemctl is-enabled --quiet "$svc" 2>/dev/null || systemctl is-active --quiet "$svc" 2>/dev/null; then
      log "disabling Debian's $svc.service"
      "${SUDO[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
  done
fi

# Sanity: the binaries the rest of the scripts use.
for b in etcd openssl ip prometheus promtool sockperf iperf3; do
  command -v "$b" >/dev/null 2>&1 || { log "missing binary after install: $b"; exit 1; }
done
[[ -x /usr/lib/cni/macvlan && -x /usr/lib/cni/host-local ]] ||
  { log "missing CNI plugins in /usr/lib/cni"; exit 1; }
log "ok: $(etcd --version 2>/dev/null | head -1)"
