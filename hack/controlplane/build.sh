#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from the
# k8s.io/kubernetes Go module at a pinned release, into a cache outside the repo:
#   ${SPIDERPOOL_TS_CACHE:-$HOME/.cache/spiderpool-ts}/k8s/<version>/bin
#
# Technique: k8s.io/kubernetes cannot be `go build`-ed as a dependency directly, because its
# go.mod requires the staging modules at v0.0.0 and replaces them with ./staging/src/k8s.io/X
# (replaces only apply in the main module). So we generate a tiny wrapper module (in the cache dir)
# that requires k8s.io/kubernetes and replaces every staging module k8s.io/X with the published
# k8s.io/X v0.<minor>.<patch> - the list is derived from that tag's own go.mod, not hand-written.
#
# Idempotent: a stamp file keyed by (k8s version, go version, build-config hash) makes a second
# run a cache hit that takes well under a second.
#
# Env:
#   SPIDERPOOL_TS_CACHE       cache root (default ~/.cache/spiderpool-ts)
#   K8S_VERSION               default v1.33.13 (pinned; other versions are untested)
#   SPIDERPOOL_TS_SKIP_DEPS=1 don't run install-deps.sh
#   SPIDERPOOL_TS_BUILD_P     go build -p (default: number of CPUs)
#   FORCE=1                   rebuild even if the stamp matches
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_VERSION="${K8S_VERSION:-v1.33.13}"
CACHE_ROOT="${SPIDERPOOL_TS_CACHE:-$HOME/.cache/spiderpool-ts}"
K8S_DIR="$CACHE_ROOT/k8s/$K8S_VERSION"
BIN_DIR="$K8S_DIR/bin"
WRAP_DIR="$K8S_DIR/wrapper"
STAMP="$BIN_DIR/.build-stamp"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

if [[ "${SPIDERPOOL_TS_SKIP_DEPS:-}" != 1 ]]; then
  "$HERE/install-deps.sh"
fi

# --- Go toolchain -------------------------------------------------------------------------------
if ! command -v go >/dev/null 2>&1; then
  [[ -x /usr/local/go/bin/go ]] || die "no Go toolchain found (PATH or /usr/local/go/bin/go)"
  export PATH="/usr/local/go/bin:$PATH"
fi
# Never let the go command download a different toolchain; build with the local one.
export GOTOOLCHAIN=local
GO_VERSION="$(go env GOVERSION)"

# k8s.io/kubernetes v1.33 declares `go 1.24.0`; any Go >= 1.24 can build it.
go_minor="$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$GO_VERSION")"
[[ "$go_minor" =~ ^[0-9]+$ ]] || die "cannot parse go version '$GO_VERSION'"
((go_minor >= 24)) || die "Kubernetes $K8S_VERSION needs Go >= 1.24, have $GO_VERSION"

# --- version ldflags (what `kubectl version` and /version report) --------------------------------
[[ "$K8S_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "K8S_VERSION must look like v1.33.13"
K8S_MINOR="${BASH_REMATCH[1]}"
STAGING_VERSION="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

# Build configuration that, when changed, must invalidate the cache.
BUILD_CONFIG="k8s=$K8S_VERSION go=$GO_VERSION cgo=0 bins=${BINARIES[*]} flags=-trimpath,-s,-w cfg=2"
cfg_hash="$(printf '%s' "$BUILD_CONFIG" | sha256sum | cut -c1-16)"
STAMP_CONTENT="$BUILD_CONFIG hash=$cfg_hash"

cache_hit() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_CONTENT" ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$BIN_DIR/$b" ]] || return 1; done
}

if [[ "${FORCE:-}" != 1 ]] && cache_hit; then
  log "cache hit: $BIN_DIR ($K8S_VERSION, $GO_VERSION)"
  exit 0
fi

start_all=$SECONDS
mkdir -p "$BIN_DIR" "$WRAP_DIR"
rm -f "$STAMP"

# Serialise concurrent builds (e.g. two test runners starting at once).
exec 9>"$K8S_DIR/.build.lock"
if ! flock -n 9; then
  log "another build holds $K8S_DIR/.build.lock; waiting"
  flock 9
  if cache_hit; then log "cache hit after waiting: $BIN_DIR"; exit 0; fi
fi

# --- wrapper module -----------------------------------------------------------------------------
log "resolving k8s.io/kubernetes@$K8S_VERSION (go module proxy / module cache)"
dl_json="$(cd "$WRAP_DIR" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION")" ||
  die "go mod download k8s.io/kubernetes@$K8S_VERSION failed"
k8s_src="$(sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p' <<<"$dl_json")"
k8s_gomod="$(sed -nE 's/^[[:space:]]*"GoMod": "(.*)",?$/\1/p' <<<"$dl_json")"
[[ -f "$k8s_gomod" && -d "$k8s_src" ]] || die "unexpected go mod download output: $dl_json"

# Staging modules from the tag's own go.mod: lines `k8s.io/X => ./staging/src/k8s.io/X`.
mapfile -t staging < <(sed -nE 's#^[[:space:]]*(replace[[:space:]]+)?(k8s\.io/[A-Za-z0-9._-]+)[[:space:]]+=>[[:space:]]+\./staging/src/k8s\.io/[A-Za-z0-9._-]+[[:space:]]*$#\2#p' "$k8s_gomod" | sort -u)
((${#staging[@]} > 10)) || die "found only ${#staging[@]} staging replaces in $k8s_gomod; format changed?"
log "wrapper: ${#staging[@]} staging modules -> $STAGING_VERSION"

# The main module's go/godebug lines decide language semantics and GODEBUG defaults of the
# binaries, so mirror Kubernetes' own (go 1.24.0, godebug default=go1.24).
k8s_go_line="$(grep -m1 -E '^go [0-9]' "$k8s_gomod")"
k8s_godebug="$(grep -E '^godebug ' "$k8s_gomod" || true)"

new_gomod="$(
  echo "// Generated by hack/controlplane/build.sh - do not edit."
  echo "module spiderpool-ts.local/k8s-build"
  echo
  echo "$k8s_go_line"
  [[ -n "$k8s_godebug" ]] && { echo; echo "$k8s_godebug"; }
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do printf '\t%s => %s %s\n' "$m" "$m" "$STAGING_VERSION"; done
  echo ")"
)"
# Keep a previously resolved go.mod (it also holds the requirements go build added) when the
# generated header is unchanged; that makes a rebuild skip resolution entirely.
if [[ ! -f "$WRAP_DIR/go.mod.generated" || "$(cat "$WRAP_DIR/go.mod.generated")" != "$new_gomod" || ! -f "$WRAP_DIR/go.mod" ]]; then
  printf '%s\n' "$new_gomod" >"$WRAP_DIR/go.mod.generated"
  printf '%s\n' "$new_gomod" >"$WRAP_DIR/go.mod"
  # Seed go.sum with Kubernetes' own checksums: every third-party dependency at the exact version
  # the release was tested with is already in there, so only the staging modules need a sumdb
  # lookup. Anything missing is added (and verified against sum.golang.org) by -mod=mod below.
  cp "$k8s_src/go.sum" "$WRAP_DIR/go.sum"
  chmod u+w "$WRAP_DIR/go.sum"
fi

# Resolve the dependency graph once for all four commands. `go get` of the main packages adds
# exactly the requirements they need (much cheaper than `go mod tidy`, which would also walk the
# test dependencies of every package in the graph).
pkgs=()
for b in "${BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
t0=$SECONDS
log "resolving dependencies (first run downloads ~200 modules through the Go proxy)"
get_rc=0
(cd "$WRAP_DIR" && go get "${pkgs[@]/%/@$K8S_VERSION}") >"$K8S_DIR/go-get.log" 2>&1 || get_rc=$?
grep -v '^go: downloading' "$K8S_DIR/go-get.log" | sed 's/^/  [go get] /' >&2 || true
((get_rc == 0)) || die "dependency resolution failed (go get exit $get_rc, see above)"
(cd "$WRAP_DIR" && go mod verify >/dev/null 2>&1) || log "warning: go mod verify reported differences"
log "dependencies resolved in $(fmt_secs $((SECONDS - t0)))"

# Sanity check: the versions that go selected for third-party modules must be the ones Kubernetes
# pinned (MVS could only raise them if a staging module required something newer).
drift="$(cd "$WRAP_DIR" && go list -m -f '{{.Path}} {{.Version}}' all 2>/dev/null |
  awk 'NR==FNR { if ($1 ~ /\./ && $2 ~ /^v/) want[$1]=$2; next } ($1 in want) && want[$1] != $2 { print "  " $1 ": k8s pins " want[$1] ", selected " $2 }' \
    <(sed -nE 's/^[[:space:]]+([^[:space:]]+)[[:space:]]+(v[^[:space:]]+).*$/\1 \2/p' "$k8s_gomod" | grep -v '^k8s.io/.* v0.0.0$') -)"
if [[ -n "$drift" ]]; then
  log "note: some selected versions differ from k8s.io/kubernetes' go.mod:"
  printf '%s\n' "$drift" >&2
fi

# --- build --------------------------------------------------------------------------------------
build_date="$(sed -nE 's/.*"Time": ?"([^"]+)".*/\1/p' <<<"$dl_json")"
[[ -n "$build_date" ]] || build_date="1970-01-01T00:00:00Z"
ldflags="-s -w"
for pkgpath in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkgpath.gitVersion=$K8S_VERSION"
  ldflags+=" -X $pkgpath.gitMajor=1"
  ldflags+=" -X $pkgpath.gitMinor=$K8S_MINOR"
  # Built from the module zip, not a git checkout: no commit hash is available.
  ldflags+=" -X $pkgpath.gitTreeState=archive"
  ldflags+=" -X $pkgpath.buildDate=$build_date"
done

# Kubernetes builds its server binaries statically (CGO_ENABLED=0); so do we.
export CGO_ENABLED=0
build_p="${SPIDERPOOL_TS_BUILD_P:-$(nproc)}"

# Progress: `go build -v` prints each package as it is compiled; count them against the number of
# packages in the dependency closure (an upper bound: cached packages are not printed).
# Reads `go build -v` output (plus a final "__rc=N" line) and prints periodic progress.
progress_filter() {
  local name="$1" total="$2" t_start="$3" n=0 last=$SECONDS line rc=1 st
  while true; do
    if IFS= read -r -t 30 line; then
      case "$line" in
        __rc=*) rc="${line#__rc=}"; break ;;
        # package names from -v are plain import paths; anything else is compiler output
        *' '* | *:*) printf '  %s\n' "$line" >&2 ;;
        *) n=$((n + 1)) ;;
      esac
      if ((SECONDS - last >= 30)); then
        log "  $name: $n/$total packages compiled, $(fmt_secs $((SECONDS - t_start))) elapsed"
        last=$SECONDS
      fi
    else
      st=$?
      ((st > 128)) || break # EOF
      # read timed out: a long compile of one package, or the link step
      log "  $name: still building ($n/$total packages compiled, $(fmt_secs $((SECONDS - t_start))) elapsed)"
      last=$SECONDS
    fi
  done
  return "$rc"
}

build_one() {
  local name="$1" pkg="k8s.io/kubernetes/cmd/$1" total t_start
  total="$(cd "$WRAP_DIR" && go list -deps "$pkg" | wc -l)"
  t_start=$SECONDS
  log "building $name ($total packages in closure, -p $build_p)"
  local out="$BIN_DIR/.$name.tmp"
  {
    if (cd "$WRAP_DIR" && go build -v -p "$build_p" -trimpath -ldflags "$ldflags" -o "$out" "$pkg" 2>&1); then
      echo "__rc=0"
    else
      echo "__rc=$?"
    fi
  } | progress_filter "$name" "$total" "$t_start" ||
    die "go build $pkg failed (Go $GO_VERSION, Kubernetes $K8S_VERSION)"
  mv -f "$out" "$BIN_DIR/$name"
  log "built $name in $(fmt_secs $((SECONDS - t_start))) ($(du -h "$BIN_DIR/$name" | cut -f1))"
}

# kube-apiserver first: it has the largest closure; the others mostly reuse its compiled packages
# from the Go build cache.
for b in "${BINARIES[@]}"; do build_one "$b"; done

"$BIN_DIR/kubectl" version --client >/dev/null 2>&1 || die "built kubectl does not run"
printf '%s\n' "$STAMP_CONTENT" >"$STAMP"
log "done in $(fmt_secs $((SECONDS - start_all))): $BIN_DIR"
"$BIN_DIR/kubectl" version --client 2>/dev/null | sed 's/^/  /' >&2 || true
