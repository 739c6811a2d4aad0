#!/usr/bin/env bash
# Build the Dockerfile into an OCI image without a Docker engine and without a base image from
# a container registry: the base is Debian bookworm made by mmdebstrap from Debian's package
# mirror (python3 3.11, its venv module, CA certificates), the build is buildah's (Dockerfile
# stages, RUN steps under chroot isolation), the results an OCI archive and a Docker archive
# (`docker load -i`; the Docker image format is the one that keeps HEALTHCHECK).
#
#   environment/oci-image.sh [TAG]      (make oci-image; root, Debian tools: apt-get installs them)
#
# Settings (environment): OCI_WORK (default /var/tmp/emotion-clf-oci) holds the base tarball
# and buildah's storage; OCI_OUT (default $OCI_WORK/out) receives emotion-clf.oci.tar and
# emotion-clf.docker.tar;
# TORCH_WHEELS, a folder holding the torch CPU wheel (default /opt/wheels when it has one):
# served on 127.0.0.1 during the build instead of PyTorch's index, which this machine cannot
# reach.
#
# This machine's TLS goes through a proxy whose CA is in the host's bundle, so the local base
# gets the host's /etc/ssl/certs/ca-certificates.crt (the base is a stand-in for
# python:3.11-slim-bookworm, built here; the image built on CI uses the real one).
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=${1:-localhost/emotion-clf:dev}
WORK=${OCI_WORK:-/var/tmp/emotion-clf-oci}
OUT=${OCI_OUT:-$WORK/out}
BASE=localhost/emotion-clf-base:bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$WORK" "$OUT"
B=(buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs)

need=()
for tool in mmdebstrap buildah; do command -v "$tool" > /dev/null || need+=("$tool"); done
if ((${#need[@]})); then
    echo "installing ${need[*]} from Debian's packages" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${need[@]}" > /dev/null
fi

started=$(date +%s)
if ! "${B[@]}" inspect --type image "$BASE" > /dev/null 2>&1; then
    if [[ ! -s "$WORK/base.tar" ]]; then
        echo "base: Debian bookworm with python3 from $MIRROR (mmdebstrap)" >&2
        mmdebstrap --quiet --variant=minbase \
            --include=python3,python3-venv,ca-certificates,passwd \
            bookworm "$WORK/base.tar.part" "$MIRROR"
        mv "$WORK/base.tar.part" "$WORK/base.tar"
    fi
    ctr=$("${B[@]}" from scratch)
    "${B[@]}" add "$ctr" "$WORK/base.tar" / > /dev/null
    "${B[@]}" copy "$ctr" /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
    "${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --cmd '["/bin/bash"]' "$ctr"
    "${B[@]}" commit --quiet --rm "$ctr" "$BASE" > /dev/null
fi
based=$(date +%s)

args=(--build-arg "PYTHON_IMAGE=$BASE")
# The build context: a copy of the files the Dockerfile copies (what .dockerignore lets in).
# Debian bookworm's python3 is 3.11.2, and constraints.txt pins soupsieve 4.1.3 (a dependency
# of nbconvert's beautifulsoup4), which requires Python >= 3.11.5: for this base the copy's
# constraints.txt leaves that pin out. (A copy, not a --volume over the file: buildah leaves
# a volume's mount point behind in every stage's layers.)
context="$WORK/context"
rm -rf "$context" && mkdir -p "$context/environment"
git ls-files -z -- pyproject.toml README.md src environment | xargs -0 cp --parents -t "$context"
grep -v '^soupsieve==' environment/constraints.txt > "$context/environment/constraints.txt"
# torch's CPU wheel from this disk, served on loopback for the build (RUN steps share the
# host's network under chroot isolation); PyTorch's index is not reachable from here
wheels=${TORCH_WHEELS:-/opt/wheels}
if compgen -G "$wheels/torch-*.whl" > /dev/null; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    python3 -m http.server --bind 127.0.0.1 --directory "$wheels" "$port" > /dev/null 2>&1 &
    server=$!
    trap 'kill "$server"' EXIT
    args+=(--build-arg "TORCH_PIP_ARGS=--find-links http://127.0.0.1:$port/")
fi
echo "building $TAG (buildah, chroot isolation)" >&2
"${B[@]}" build --quiet --isolation chroot --layers=false --format docker "${args[@]}" \
    -f "$PWD/Dockerfile" -t "$TAG" "$context" > /dev/null
built=$(date +%s)

rm -f "$OUT/emotion-clf.oci.tar" "$OUT/emotion-clf.docker.tar"
"${B[@]}" push --quiet "$TAG" "oci-archive:$OUT/emotion-clf.oci.tar:${TAG##*/}"
"${B[@]}" push --quiet "$TAG" "docker-archive:$OUT/emotion-clf.docker.tar:${TAG##*/}"
size=$(du -m "$OUT/emotion-clf.docker.tar" | cut -f1)
echo "base $((based - started)) s, build $((built - based)) s, ${size} MB: $OUT/emotion-clf.{oci,docker}.tar" >&2
echo "$OUT/emotion-clf.docker.tar"
