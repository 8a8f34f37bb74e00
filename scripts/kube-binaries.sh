#!/usr/bin/env bash
# Builds the test control plane from Go modules (tests/kube/go.mod): etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler and kwok (simulated
# nodes), once, into a cache outside the clone keyed by the Kubernetes version
# and a hash of the Go module, so a changed pin builds anew and an unchanged
# one costs nothing.
#
#   scripts/kube-binaries.sh          build when missing; print the directory
#   scripts/kube-binaries.sh --dir    print the directory only (build nothing)
#
# Beside the binaries: kwok-stages.yaml, the "fast" node and pod stages that
# the kwok module ships (kustomize/stage/...), which kwok needs to play a node
# whose pods become Running and Ready; VERSIONS names what was built.
#
# The cache is ${XDG_CACHE_HOME:-~/.cache}/kontor/kube-<version>-<hash>/;
# KONTOR_KUBE_BIN_DIR overrides it. The integration tests start these
# binaries themselves (tests/integration/support/real_kube.rs).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$root/tests/kube"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

module_version() { awk -v m="$1" '$1 == "require" { $1 = ""; $0 = $0 } $1 == m && !v { v = $2 } END { print v }' "$mod/go.mod"; }
kube_version="$(module_version k8s.io/kubernetes)"
kwok_version="$(module_version sigs.k8s.io/kwok)"
etcd_version="$(module_version go.etcd.io/etcd/server/v3)"
# Raise when the build itself changes (flags, binaries), not only the pins.
build_revision=1
hash="$( (cat "$mod/go.mod" "$mod/go.sum" "$mod/cmd/etcd/main.go"; echo "$build_revision") | sha256sum | cut -c1-12)"
dir="${KONTOR_KUBE_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kontor/kube-$kube_version-$hash}"

complete() {
    [[ -f "$dir/VERSIONS" ]] || return 1
    for b in "${binaries[@]}"; do [[ -x "$dir/$b" ]] || return 1; done
}

# kwok's default stages, from the module as the proxy served it.
write_stages() {
    local kwok_dir
    kwok_dir="$(cd "$mod" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
    {
        for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
                 pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
            echo "---"
            cat "$kwok_dir/kustomize/stage/$f"
        done
    } > "$1/kwok-stages.yaml.tmp"
    mv "$1/kwok-stages.yaml.tmp" "$1/kwok-stages.yaml"
}

if [[ "${1:-}" == "--dir" ]]; then
    echo "$dir"
    exit 0
fi

if complete; then
    [[ -f "$dir/kwok-stages.yaml" ]] || (cd "$mod" && go mod download sigs.k8s.io/kwok && write_stages "$dir")
    echo "$dir"
    exit 0
fi

command -v go >/dev/null || { echo "kube-binaries: Go is needed to build the test control plane" >&2; exit 1; }
echo "kube-binaries: building Kubernetes $kube_version, etcd $etcd_version, kwok $kwok_version into $dir (first time only; several minutes)" >&2
start=$SECONDS
tmp="$dir.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"

# The version the binaries report, as Kubernetes' own build stamps it.
minor="${kube_version#v1.}"; minor="${minor%%.*}"
kv="k8s.io/component-base/version"
cv="k8s.io/client-go/pkg/version"
ldflags="-s -w"
for p in "$kv" "$cv"; do
    ldflags+=" -X $p.gitVersion=$kube_version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.Version=$kwok_version"

(
    cd "$mod"
    go mod download
    CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$tmp/" \
        ./cmd/etcd \
        k8s.io/kubernetes/cmd/kube-apiserver \
        k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler \
        sigs.k8s.io/kwok/cmd/kwok
)
write_stages "$tmp"
printf 'kubernetes %s\netcd %s\nkwok %s\ngo %s\n' \
    "$kube_version" "$etcd_version" "$kwok_version" "$(go env GOVERSION)" > "$tmp/VERSIONS"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "kube-binaries: built in $((SECONDS - start)) s" >&2
echo "$dir"
