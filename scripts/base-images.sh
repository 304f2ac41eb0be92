#!/usr/bin/env bash
# Base images made here, since no image registry is reachable: debootstrap + `docker import`.
#
#   scripts/base-images.sh [cpu|cuda]   # make what is missing, push it, print the config keys
#   scripts/base-images.sh pod          # the pod's other images, by digest (pythonImage, modelFetcherImage)
#
# - runtime: Debian bookworm minbase without docs/locales/apt lists (the debian:bookworm-slim role)
# - builder: runtime + the packages the generated Dockerfile installs (compilers, cmake,
#            clang/libclang for bindgen, curl, git: policy/shimmy_facts/builder-packages.txt), the
#            cpu builder, trusting this machine's extra CAs (/usr/local/share/ca-certificates)
# - cuda-builder (with `cuda`): Debian trixie + its non-free CUDA 12.4.1 toolkit, same tools
# - python (with `pod`): runtime + Debian's python3, for the request gate (standard library only)
# - fetch (with `pod`):  runtime + curl and CA certificates, for the model's init container
#            (sh, curl, sha256sum); the curlimages/curl role
# - rust:    only /usr/local/cargo + /usr/local/rustup, laid out like the official rust image, with
#            the Rust toolchain of this machine (rustup's 1.95.0); the Dockerfile copies both folders
#
# They are pushed to the local registry (scripts/docker-env.sh) and handed to the generator through
# the builderImage/rustImage/runtimeImage config keys, exactly as a registry mirror would be.
# Idempotent: an image already in the engine is kept; the debootstrap tree is cached.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CACHE="$SHIMMY_GPU_CACHE"
WORK="$CACHE/base-images"
DOCKER=/usr/bin/docker
REGISTRY=127.0.0.1:5000
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
RUST_TOOLCHAIN=1.95.0-x86_64-unknown-linux-gnu
RUSTUP_SOURCE="${RUSTUP_HOME:-$HOME/.rustup}"
RUSTUP_BIN="${CARGO_HOME:-$HOME/.cargo}/bin/rustup"

RUNTIME_IMAGE="$REGISTRY/shimmy-base/runtime:$SUITE"
BUILDER_IMAGE="$REGISTRY/shimmy-base/builder:$SUITE"
RUST_IMAGE="$REGISTRY/shimmy-base/rust:${RUST_TOOLCHAIN%%-*}"
TRIXIE_IMAGE="$REGISTRY/shimmy-base/runtime:trixie"
PYTHON_IMAGE="$REGISTRY/shimmy-base/python:$SUITE"
FETCH_IMAGE="$REGISTRY/shimmy-base/fetch:$SUITE"
CUDA_BUILDER_IMAGE="$REGISTRY/shimmy-base/cuda-builder:trixie-12.4.1"
# What the generated Dockerfile installs on top of a builder (common.sh), baked in here.
BUILD_PACKAGES=$(builder_packages | paste -sd ' ' -)

log() { echo "base-images: $*" >&2; }
have() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

debian_image() {
    local suite=$1 image=$2
    have "$image" && return 0
    command -v debootstrap >/dev/null || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    }
    local root="$WORK/rootfs-$suite"
    if [[ ! -f "$root/.complete" ]]; then
        log "debootstrap $suite (minbase) into $root"
        rm -rf "$root"
        mkdir -p "$root"
        nice -n 10 debootstrap --variant=minbase "$suite" "$root" "$MIRROR" >"$WORK/debootstrap-$suite.log" 2>&1 ||
            { tail -n 30 "$WORK/debootstrap-$suite.log" >&2; exit 1; }
        # What slim images leave out; apt still works (`apt-get update` restores the lists).
        rm -rf "$root"/usr/share/{doc,man,info,locale}/* "$root"/var/lib/apt/lists/* \
            "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*
        echo "deb $MIRROR $suite main" >"$root/etc/apt/sources.list"
        touch "$root/.complete"
    fi
    log "importing $image"
    tar -C "$root" --exclude=./.complete --numeric-owner -c . |
        "$DOCKER" import --change 'CMD ["bash"]' - "$image" >/dev/null
}

# Builds $2 from the Dockerfile text on stdin, in a context holding this machine's extra trust
# anchors as ca/ (here: the TLS-inspecting egress proxy's CA). Only builders get them, so that their
# curl and cargo reach crates.io as the host does; the runtime base makes no outbound TLS.
build_with_ca() {
    local name=$1 image=$2
    local context="$WORK/context-$name"
    rm -rf "$context"
    mkdir -p "$context/ca"
    cp /usr/local/share/ca-certificates/*.crt "$context/ca/" 2>/dev/null || true
    cat >"$context/Dockerfile"
    nice -n 10 "$DOCKER" build -q -t "$image" "$context" >/dev/null
}

builder() {
    have "$BUILDER_IMAGE" && return 0
    log "building $BUILDER_IMAGE from $RUNTIME_IMAGE"
    build_with_ca builder "$BUILDER_IMAGE" <<EOF
FROM $RUNTIME_IMAGE
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update \\
 && apt-get install -y --no-install-recommends $BUILD_PACKAGES \\
 && rm -rf /var/lib/apt/lists/*
EOF
}

# An image of the runtime base with Debian PACKAGES on top (no extra trust anchors: these run in pods).
runtime_with() { # IMAGE PACKAGES...
    local image=$1
    shift
    have "$image" && return 0
    log "building $image from $RUNTIME_IMAGE ($*)"
    build_with_ca "$(basename "${image%%:*}")" "$image" <<EOF
FROM $RUNTIME_IMAGE
RUN apt-get update \\
 && apt-get install -y --no-install-recommends $* \\
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
EOF
}

# The registry's reference of a pushed image: what a stack pins.
digest_of() { "$DOCKER" image inspect --format '{{index .RepoDigests 0}}' "$1"; }

# The cuda builder: Debian trixie's non-free CUDA 12.4.1 toolkit (nvcc, static cudart/cuBLAS/
# cuBLASLt, the libcuda stub), laid out under /usr/local/cuda as in NVIDIA's devel images, which is
# where the generated Dockerfile (CUDA_PATH) and shimmy's build script look.
cuda_builder() {
    have "$CUDA_BUILDER_IMAGE" && return 0
    debian_image trixie "$TRIXIE_IMAGE"
    log "building $CUDA_BUILDER_IMAGE from $TRIXIE_IMAGE (downloads the CUDA toolkit, ~3 GB)"
    build_with_ca cuda-builder "$CUDA_BUILDER_IMAGE" <<EOF
FROM $TRIXIE_IMAGE
COPY ca/ /usr/local/share/ca-certificates/
RUN echo "deb $MIRROR trixie main contrib non-free" >/etc/apt/sources.list \\
 && apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      $BUILD_PACKAGES nvidia-cuda-toolkit \\
 && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /usr/local/cuda \\
 && ln -s /usr/lib/nvidia-cuda-toolkit/bin /usr/local/cuda/bin \\
 && ln -s /usr/lib/cuda/include /usr/local/cuda/include \\
 && ln -s /usr/lib/cuda/nvvm /usr/local/cuda/nvvm \\
 && ln -s /usr/lib/x86_64-linux-gnu /usr/local/cuda/lib64 \\
 && test -f /usr/local/cuda/lib64/libcudart_static.a \\
 && test -f /usr/local/cuda/lib64/libcublas_static.a \\
 && test -f /usr/local/cuda/lib64/stubs/libcuda.so \\
 && nvcc --version
EOF
}

rust() {
    have "$RUST_IMAGE" && return 0
    local src="$RUSTUP_SOURCE/toolchains/$RUST_TOOLCHAIN"
    # rustup may hold the same release only as its `stable` channel.
    local stable="$RUSTUP_SOURCE/toolchains/stable-${RUST_TOOLCHAIN#*-}"
    if [[ ! -x "$src/bin/cargo" && -x "$stable/bin/rustc" ]] &&
        [[ "$("$stable/bin/rustc" --version)" == "rustc ${RUST_TOOLCHAIN%%-*} "* ]]; then
        src=$stable
    fi
    [[ -x "$src/bin/cargo" && -x "$RUSTUP_BIN" ]] || {
        log "no Rust toolchain $RUST_TOOLCHAIN under $RUSTUP_SOURCE (install it with rustup)"
        exit 1
    }
    local stage="$WORK/rust"
    rm -rf "$stage"
    mkdir -p "$stage/usr/local/cargo/bin" "$stage/usr/local/rustup/toolchains"
    log "staging $RUST_TOOLCHAIN (without docs)"
    # -L: the host's toolchain folder may be a symlink to its channel name.
    cp -a "$(readlink -f "$src")" "$stage/usr/local/rustup/toolchains/$RUST_TOOLCHAIN"
    rm -rf "$stage/usr/local/rustup/toolchains/$RUST_TOOLCHAIN/share/doc"
    printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$RUST_TOOLCHAIN" \
        >"$stage/usr/local/rustup/settings.toml"
    # rustup's proxies, as in the official image: cargo/rustc are rustup under another name.
    cp "$RUSTUP_BIN" "$stage/usr/local/cargo/bin/rustup"
    for tool in cargo rustc rustdoc; do
        ln "$stage/usr/local/cargo/bin/rustup" "$stage/usr/local/cargo/bin/$tool"
    done
    log "importing $RUST_IMAGE"
    tar -C "$stage" --numeric-owner -c . | "$DOCKER" import - "$RUST_IMAGE" >/dev/null
    rm -rf "$stage"
}

mkdir -p "$WORK"
debian_image "$SUITE" "$RUNTIME_IMAGE"
if [[ "${1:-}" == pod ]]; then
    runtime_with "$PYTHON_IMAGE" python3
    runtime_with "$FETCH_IMAGE" curl ca-certificates
    for image in "$PYTHON_IMAGE" "$FETCH_IMAGE"; do
        "$DOCKER" push -q "$image" >/dev/null
    done
    echo "pythonImage: $(digest_of "$PYTHON_IMAGE")"
    echo "modelFetcherImage: $(digest_of "$FETCH_IMAGE")"
    exit 0
fi
rust
case "${1:-cpu}" in
cpu)
    builder
    BUILDER=$BUILDER_IMAGE RUNTIME=$RUNTIME_IMAGE
    ;;
cuda)
    cuda_builder
    # A binary links against its builder's glibc: trixie-built needs a trixie runtime.
    BUILDER=$CUDA_BUILDER_IMAGE RUNTIME=$TRIXIE_IMAGE
    ;;
*)
    echo "usage: $0 [cpu|cuda|pod]" >&2
    exit 2
    ;;
esac
for image in "$RUNTIME" "$BUILDER" "$RUST_IMAGE"; do
    "$DOCKER" push -q "$image" >/dev/null
done
cat <<EOF
builderImage: $BUILDER
rustImage: $RUST_IMAGE
runtimeImage: $RUNTIME
EOF
