#!/usr/bin/env bash
# Start a local Kubernetes control plane on 127.0.0.1 from real, locally built binaries:
# etcd (Debian etcd-server, data on tmpfs), kube-apiserver, kube-controller-manager and
# kube-scheduler (hack/controlplane/build.sh). No nodes: those are simulated separately.
#
# State dir ${SPIDERPOOL_TS_CLUSTER_DIR:-/tmp/spiderpool-ts-cluster}:
#   kubeconfig        admin kubeconfig (system:masters), self-contained
#   pki/              CA, serving and client certs, service-account key pair, front-proxy CA
#   config/           component kubeconfigs and config files
#   logs/<name>.log   one log per component
#   run/<name>.pid    pids (down.sh uses them)
#   cluster.env       resolved settings (SERVER, KUBECONFIG, KUBECTL, ...) for tools and tests
#
# Idempotent: when the cluster is already up and healthy it says so and exits 0; a half-dead
# cluster is torn down and started afresh.
#
# Env: see lib.sh for paths/ports; SPIDERPOOL_TS_SKIP_BUILD=1 skips the build step;
#      SPIDERPOOL_TS_{ETCD,APISERVER,KCM,SCHEDULER}_EXTRA_ARGS append flags to a component.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

START_TIMEOUT="${SPIDERPOOL_TS_START_TIMEOUT:-120}"
t_begin=$SECONDS

# One up/down at a time per state dir (parallel test workers may all call ensureCluster()).
mkdir -p "$STATE_DIR"
exec 8>"$STATE_DIR/.lock"
if ! flock -n 8; then
  cp_log "waiting for another up/down on $STATE_DIR to finish"
  flock -w "${SPIDERPOOL_TS_LOCK_TIMEOUT:-3600}" 8 || { cp_log "timed out waiting for $STATE_DIR/.lock"; exit 1; }
fi
export SPIDERPOOL_TS_CLUSTER_LOCK_HELD=1

usage_hint() {
  cat >&2 <<EOF

  kubeconfig: $KUBECONFIG_PATH
  server:     $SERVER
  logs:       $LOG_DIR

  $K8S_BIN/kubectl --kubeconfig $KUBECONFIG_PATH get nodes,pods -A
  (or: export KUBECONFIG=$KUBECONFIG_PATH PATH=$K8S_BIN:\$PATH)

  stop with: npm run cluster:down
EOF
}

# --- already up? ----------------------------------------------------------------------------------
all_running=1
for c in "${COMPONENTS[@]}"; do component_pid "$c" >/dev/null || all_running=0; done
if ((all_running)) && [[ -f "$KUBECONFIG_PATH" ]] &&
  [[ "$(admin_curl "$SERVER/readyz" 2>/dev/null || true)" == ok ]]; then
  cp_log "already up and healthy: $SERVER"
  usage_hint
  printf '%s\n' "$KUBECONFIG_PATH"
  exit 0
fi
if [[ -d "$RUN_DIR" ]] && compgen -G "$RUN_DIR/*.pid" >/dev/null || [[ -n "$(stray_pids)" ]]; then
  cp_log "found a partial or unhealthy cluster in $STATE_DIR; tearing it down first"
  "$HERE/down.sh"
fi

# --- binaries -------------------------------------------------------------------------------------
if [[ "${SPIDERPOOL_TS_SKIP_BUILD:-}" != 1 ]]; then
  "$HERE/build.sh"
fi
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [[ -x "$K8S_BIN/$b" ]] || { cp_log "missing $K8S_BIN/$b; run npm run cluster:build"; exit 1; }
done
ETCD_BIN="$(command -v etcd || true)"
[[ -n "$ETCD_BIN" ]] || { cp_log "etcd not installed; run hack/controlplane/install-deps.sh"; exit 1; }
KUBECTL="$K8S_BIN/kubectl"

# Fail early with a clear message if a port is taken by someone else.
for port in "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHEDULER_PORT"; do
  if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
    cp_log "port 127.0.0.1:$port is already in use:"
    ss -Hltnp "sport = :$port" >&2 || true
    exit 1
  fi
done

mkdir -p "$LOG_DIR" "$PKI_DIR" "$RUN_DIR" "$CONF_DIR"
chmod 700 "$PKI_DIR"

# --- PKI (kept across restarts; regenerated when a file is missing) -------------------------------
# ECDSA P-256 for TLS (fast to generate); RSA 2048 for the service-account token key.
gen_ca() { # name CN
  local n="$1" cn="$2"
  [[ -f "$PKI_DIR/$n.crt" && -f "$PKI_DIR/$n.key" ]] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/$n.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI_DIR/$n.key" -subj "/CN=$cn" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$PKI_DIR/$n.crt" 2>/dev/null
}
gen_cert() { # name ca subject extKeyUsage [subjectAltName]
  local n="$1" ca="$2" subj="$3" eku="$4" san="${5:-}" ext
  [[ -f "$PKI_DIR/$n.crt" && -f "$PKI_DIR/$n.key" ]] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/$n.key" 2>/dev/null
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n "$san" ]] && echo "subjectAltName=$san"
  } >"$ext"
  openssl req -new -key "$PKI_DIR/$n.key" -subj "$subj" 2>/dev/null |
    openssl x509 -req -CA "$PKI_DIR/$ca.crt" -CAkey "$PKI_DIR/$ca.key" -CAcreateserial \
      -days 3650 -sha256 -extfile "$ext" -out "$PKI_DIR/$n.crt" 2>/dev/null
  rm -f "$ext"
}

gen_ca ca "spiderpool-ts-ca"
gen_ca front-proxy-ca "spiderpool-ts-front-proxy-ca"
gen_cert apiserver ca "/CN=kube-apiserver" serverAuth \
  "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:::1,IP:$SERVICE_FIRST_IP"
gen_cert admin ca "/O=system:masters/CN=kubernetes-admin" clientAuth
gen_cert kube-controller-manager ca "/CN=system:kube-controller-manager" clientAuth
gen_cert kube-scheduler ca "/CN=system:kube-scheduler" clientAuth
# Serving certs for the controller manager's and scheduler's own https ports (otherwise they
# self-sign into a cert dir on every start).
gen_cert kube-controller-manager-serving ca "/CN=kube-controller-manager" serverAuth "DNS:localhost,IP:127.0.0.1"
gen_cert kube-scheduler-serving ca "/CN=kube-scheduler" serverAuth "DNS:localhost,IP:127.0.0.1"
# Client cert the apiserver uses towards aggregated API servers (front proxy).
gen_cert front-proxy-client front-proxy-ca "/CN=front-proxy-client" clientAuth
if [[ ! -f "$PKI_DIR/sa.key" || ! -f "$PKI_DIR/sa.pub" ]]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI_DIR/sa.key" 2>/dev/null
  openssl pkey -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
fi
chmod 600 "$PKI_DIR"/*.key

# --- kubeconfigs ----------------------------------------------------------------------------------
b64() { base64 -w0 <"$1"; }
write_kubeconfig() { # path user cert-name
  local path="$1" user="$2" cert="$3"
  umask 077
  cat >"$path" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: spiderpool-ts
  cluster:
    server: $SERVER
    certificate-authority-data: $(b64 "$PKI_DIR/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(b64 "$PKI_DIR/$cert.crt")
    client-key-data: $(b64 "$PKI_DIR/$cert.key")
contexts:
- name: $user@spiderpool-ts
  context:
    cluster: spiderpool-ts
    user: $user
current-context: $user@spiderpool-ts
EOF
  umask 022
}
write_kubeconfig "$KUBECONFIG_PATH" kubernetes-admin admin
write_kubeconfig "$CONF_DIR/kube-controller-manager.kubeconfig" system:kube-controller-manager kube-controller-manager
write_kubeconfig "$CONF_DIR/kube-scheduler.kubeconfig" system:kube-scheduler kube-scheduler

cat >"$CONF_DIR/kube-scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $CONF_DIR/kube-scheduler.kubeconfig
  # Default client rate limit is 50 qps / 100 burst. Every scheduled pod costs one Binding POST
  # (plus status patches for unschedulable pods and events); for the 1000-pod benchmark the
  # client-side limiter would be the bottleneck, so raise it well above the pod creation rate.
  qps: 200
  burst: 400
leaderElection:
  # single instance, no HA: no Lease churn, and scheduling starts immediately
  leaderElect: false
EOF

# --- process helpers ------------------------------------------------------------------------------
start_component() { # name binary args...
  local name="$1" bin="$2" pid
  shift 2
  # keep the previous run's log next to the new one
  [[ -f "$LOG_DIR/$name.log" ]] && mv -f "$LOG_DIR/$name.log" "$LOG_DIR/$name.log.prev"
  {
    printf '=== %s starting %s\n' "$(date -Is)" "$name"
    printf '=== %q' "$bin"
    printf ' %q' "$@"
    printf '\n'
  } >>"$LOG_DIR/$name.log"
  # setsid: own session, so the component outlives the shell (and job) that ran up.sh and
  # does not receive its terminal's signals. Not -f, so $! is the component's own pid.
  # 8>&-: don't let the daemon inherit the up/down lock (it would hold it for its lifetime).
  setsid "$bin" "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 8>&- &
  pid=$!
  printf '%s\n' "$pid" >"$RUN_DIR/$name.pid"
  cp_log "started $name (pid $pid, log $LOG_DIR/$name.log)"
}

fail_component() { # name message
  cp_log "FAILED: $1: $2"
  cp_log "last 40 lines of $LOG_DIR/$1.log:"
  tail -n 40 "$LOG_DIR/$1.log" >&2 || true
  cp_log "leaving the state for inspection; run npm run cluster:down to clean up"
  exit 1
}

# wait_until name description command...
wait_until() {
  local name="$1" what="$2" deadline=$((SECONDS + START_TIMEOUT))
  shift 2
  until "$@" >/dev/null 2>&1; do
    component_pid "$name" >/dev/null || fail_component "$name" "process exited while waiting for $what"
    ((SECONDS < deadline)) || fail_component "$name" "timed out after ${START_TIMEOUT}s waiting for $what"
    sleep 0.3
  done
}

# --- etcd -----------------------------------------------------------------------------------------
rm -rf "$ETCD_DATA_DIR"
mkdir -p "$ETCD_DATA_DIR"
chmod 700 "$ETCD_DATA_DIR"
# shellcheck disable=SC2086 # extra args are intentionally word-split
start_component etcd "$ETCD_BIN" \
  --name=spiderpool-ts \
  --data-dir="$ETCD_DATA_DIR" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="spiderpool-ts=http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster-state=new \
  --quota-backend-bytes=$((4 * 1024 * 1024 * 1024)) \
  --snapshot-count=10000 \
  --logger=zap --log-outputs=stderr \
  ${SPIDERPOOL_TS_ETCD_EXTRA_ARGS:-}
wait_until etcd "etcd /health" bash -c "curl -fsS --max-time 2 http://127.0.0.1:$ETCD_CLIENT_PORT/health | grep -q '\"health\":\"true\"'"
cp_log "etcd healthy"

# --- kube-apiserver -------------------------------------------------------------------------------
# shellcheck disable=SC2086
start_component kube-apiserver "$K8S_BIN/kube-apiserver" \
  --advertise-address=127.0.0.1 \
  --bind-address=127.0.0.1 \
  --secure-port="$APISERVER_PORT" \
  --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --tls-cert-file="$PKI_DIR/apiserver.crt" \
  --tls-private-key-file="$PKI_DIR/apiserver.key" \
  --client-ca-file="$PKI_DIR/ca.crt" \
  --authorization-mode=Node,RBAC \
  --anonymous-auth=true \
  --allow-privileged=true \
  --enable-admission-plugins=NodeRestriction \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI_DIR/sa.pub" \
  --service-account-signing-key-file="$PKI_DIR/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --endpoint-reconciler-type=none \
  --requestheader-client-ca-file="$PKI_DIR/front-proxy-ca.crt" \
  --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User \
  --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$PKI_DIR/front-proxy-client.crt" \
  --proxy-client-key-file="$PKI_DIR/front-proxy-client.key" \
  --max-requests-inflight=800 \
  --max-mutating-requests-inflight=400 \
  --profiling=false \
  --v="${SPIDERPOOL_TS_APISERVER_V:-1}" \
  ${SPIDERPOOL_TS_APISERVER_EXTRA_ARGS:-}
# Notes on the less obvious flags:
#  --endpoint-reconciler-type=none  the apiserver would publish its --advertise-address in the
#      default/kubernetes Endpoints, and endpoint validation rejects loopback addresses, so the
#      reconciler would log errors forever. Nothing here reaches the apiserver via that Service.
#  --enable-admission-plugins=NodeRestriction  added to the default set (NamespaceLifecycle,
#      LimitRanger, ServiceAccount, DefaultTolerationSeconds, Priority, ResourceQuota, webhooks,
#      PodSecurity, ...): limits what node identities may modify, as in a real cluster.
#  --max-(mutating-)requests-inflight  doubled from 400/200: the 1000-pod benchmark bursts
#      (pod creates, bindings, status updates from the node simulator) all go through one apiserver.
#  --requestheader-* / --proxy-client-*  front-proxy setup, so aggregated APIs could be served.
# (With the "none" reconciler the apiserver logs one harmless "Found stale data, removed previous
# endpoints on kubernetes service" error at start: RemoveEndpoints is a no-op returning nil.)
wait_until kube-apiserver "/readyz" bash -c "[[ \"\$(curl -sS --max-time 5 --cacert '$PKI_DIR/ca.crt' --cert '$PKI_DIR/admin.crt' --key '$PKI_DIR/admin.key' '$SERVER/readyz')\" == ok ]]"
cp_log "kube-apiserver ready ($SERVER)"

# --- kube-controller-manager ----------------------------------------------------------------------
# shellcheck disable=SC2086
start_component kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig="$CONF_DIR/kube-controller-manager.kubeconfig" \
  --authentication-kubeconfig="$CONF_DIR/kube-controller-manager.kubeconfig" \
  --authorization-kubeconfig="$CONF_DIR/kube-controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 \
  --secure-port="$KCM_PORT" \
  --tls-cert-file="$PKI_DIR/kube-controller-manager-serving.crt" \
  --tls-private-key-file="$PKI_DIR/kube-controller-manager-serving.key" \
  --client-ca-file="$PKI_DIR/ca.crt" \
  --requestheader-client-ca-file="$PKI_DIR/front-proxy-ca.crt" \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$PKI_DIR/sa.key" \
  --root-ca-file="$PKI_DIR/ca.crt" \
  --cluster-signing-cert-file="$PKI_DIR/ca.crt" \
  --cluster-signing-key-file="$PKI_DIR/ca.key" \
  --cluster-name=spiderpool-ts \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --allocate-node-cidrs=false \
  --leader-elect=false \
  --controllers='*,-service-lb-controller,-node-route-controller,-cloud-node-lifecycle-controller' \
  --kube-api-qps=100 \
  --kube-api-burst=200 \
  --concurrent-deployment-syncs=20 \
  --concurrent-replicaset-syncs=20 \
  --concurrent-gc-syncs=40 \
  --concurrent-service-endpoint-syncs=10 \
  --concurrent-namespace-syncs=20 \
  --profiling=false \
  --v="${SPIDERPOOL_TS_KCM_V:-2}" \
  ${SPIDERPOOL_TS_KCM_EXTRA_ARGS:-}
# Notes:
#  --use-service-account-credentials  each controller talks to the apiserver as its own service
#      account (system:serviceaccount:kube-system:<controller>), so RBAC is exercised as in a real
#      cluster; the controller manager's own identity only bootstraps those tokens.
#  --controllers  everything (*) except the three cloud-provider controllers, which have nothing
#      to do without a cloud (they would only log that they are disabled). bootstrap-signer and
#      token-cleaner stay off by default.
#  --allocate-node-cidrs=false  pods get addresses from our underlay IPAM, not node podCIDRs.
#  --kube-api-qps/--kube-api-burst 100/200 (default 20/30)  the client rate limit is shared per
#      controller client; with 1000 pods the ReplicaSet controller alone issues 1000 pod creates
#      (plus status updates of 100 Deployments/ReplicaSets) and the default 20 qps would make that
#      take ~50s on its own.
#  --concurrent-deployment-syncs / --concurrent-replicaset-syncs 20 (default 5)  workers per
#      controller; 100 Deployments created at once are reconciled 20 at a time instead of 5.
#  --concurrent-gc-syncs 40 (default 20), --concurrent-namespace-syncs 20 (default 10)  faster
#      cascading deletes of 1000 pods / test namespaces during teardown.
#  --concurrent-service-endpoint-syncs 10 (default 5)  endpointslice workers.
wait_until kube-controller-manager "/healthz" bash -c "[[ \"\$(curl -sS --max-time 5 --cacert '$PKI_DIR/ca.crt' 'https://127.0.0.1:$KCM_PORT/healthz')\" == ok ]]"
cp_log "kube-controller-manager healthy"

# --- kube-scheduler -------------------------------------------------------------------------------
# shellcheck disable=SC2086
start_component kube-scheduler "$K8S_BIN/kube-scheduler" \
  --config="$CONF_DIR/kube-scheduler.yaml" \
  --authentication-kubeconfig="$CONF_DIR/kube-scheduler.kubeconfig" \
  --authorization-kubeconfig="$CONF_DIR/kube-scheduler.kubeconfig" \
  --bind-address=127.0.0.1 \
  --secure-port="$SCHEDULER_PORT" \
  --tls-cert-file="$PKI_DIR/kube-scheduler-serving.crt" \
  --tls-private-key-file="$PKI_DIR/kube-scheduler-serving.key" \
  --client-ca-file="$PKI_DIR/ca.crt" \
  --requestheader-client-ca-file="$PKI_DIR/front-proxy-ca.crt" \
  --profiling=false \
  --v="${SPIDERPOOL_TS_SCHEDULER_V:-2}" \
  ${SPIDERPOOL_TS_SCHEDULER_EXTRA_ARGS:-}
wait_until kube-scheduler "/healthz" bash -c "[[ \"\$(curl -sS --max-time 5 --cacert '$PKI_DIR/ca.crt' 'https://127.0.0.1:$SCHEDULER_PORT/healthz')\" == ok ]]"
cp_log "kube-scheduler healthy"

# --- cluster bootstrap objects --------------------------------------------------------------------
k() { "$KUBECTL" --kubeconfig="$KUBECONFIG_PATH" "$@"; }
wait_until kube-controller-manager "the default namespace and its default ServiceAccount" \
  k get serviceaccount default -n default
# Pods mount kube-root-ca.crt via their projected service-account volume.
wait_until kube-controller-manager "the kube-root-ca.crt ConfigMap in default" \
  k get configmap kube-root-ca.crt -n default
cp_log "default namespace and ServiceAccount present"

# --- CRDs -----------------------------------------------------------------------------------------
CRD_DIR="$REPO_ROOT/crds"
if compgen -G "$CRD_DIR/*.yaml" >/dev/null || compgen -G "$CRD_DIR/*.yml" >/dev/null; then
  cp_log "installing CRDs from $CRD_DIR"
  crd_out="$(k apply --server-side --force-conflicts --field-manager=spiderpool-ts-up -k "$CRD_DIR" -o name 2>&1)" ||
    { printf '%s\n' "$crd_out" >&2; cp_log "FAILED: kubectl apply -k $CRD_DIR"; exit 1; }
  mapfile -t crds < <(grep '^customresourcedefinition' <<<"$crd_out" || true)
  if ((${#crds[@]} > 0)); then
    k wait --for=condition=Established --timeout="${START_TIMEOUT}s" "${crds[@]}" >/dev/null ||
      { cp_log "FAILED: CRDs not Established: ${crds[*]}"; exit 1; }
    cp_log "${#crds[@]} CRD(s) Established"
  fi
else
  cp_log "no CRD YAML in $CRD_DIR (skipped)"
fi

cat >"$STATE_DIR/cluster.env" <<EOF
# written by hack/controlplane/up.sh
SERVER=$SERVER
KUBECONFIG=$KUBECONFIG_PATH
KUBECTL=$KUBECTL
K8S_VERSION=$K8S_VERSION
STATE_DIR=$STATE_DIR
LOG_DIR=$LOG_DIR
ETCD_ENDPOINT=http://127.0.0.1:$ETCD_CLIENT_PORT
ETCD_DATA_DIR=$ETCD_DATA_DIR
EOF

cp_log "cluster up in $((SECONDS - t_begin))s"
usage_hint
printf '%s\n' "$KUBECONFIG_PATH"
