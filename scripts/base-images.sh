#!/usr/bin/env bash
# Base images made here, since no image registry is reachable: debootstrap + `docker import`.
#
#   scripts/base-images.sh          # make what is missing, push it, print the config keys
#
# - runtime: Debian bookworm minbase without docs/locales/apt lists (the debian:bookworm-slim role)
# - builder: runtime + compilers, cmake, clang/libclang for bindgen, curl, git (the cpu builder),
#            trusting this machine's extra CAs (/usr/local/share/ca-certificates)
# - rust:    only /usr/local/cargo + /usr/local/rustup, laid out like the official rust image, with
#            the Rust toolchain of this machine (rustup's 1.95.0); the Dockerfile copies both folders
#
# They are pushed to the local registry (scripts/docker-env.sh) and handed to the generator through
# the builderImage/rustImage/runtimeImage config keys, exactly as a registry mirror would be.
# Idempotent: an image already in the engine is kept; the debootstrap tree is cached.
set -euo pipefail

CACHE="${SHIMMY_GPU_CACHE:-$HOME/.cache/shimmy-gpu}"
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

log() { echo "base-images: $*" >&2; }
have() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

runtime() {
    have "$RUNTIME_IMAGE" && return 0
    command -v debootstrap >/dev/null || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    }
    local root="$WORK/rootfs-$SUITE"
    if [[ ! -f "$root/.complete" ]]; then
        log "debootstrap $SUITE (minbase) into $root"
        rm -rf "$root"
        mkdir -p "$root"
        nice -n 10 debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
            { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
        # What slim images leave out; apt still works (`apt-get update` restores the lists).
        rm -rf "$root"/usr/share/{doc,man,info,locale}/* "$root"/var/lib/apt/lists/* \
            "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*
        echo "deb $MIRROR $SUITE main" >"$root/etc/apt/sources.list"
        touch "$root/.complete"
    fi
    log "importing $RUNTIME_IMAGE"
    tar -C "$root" --exclude=./.complete --numeric-owner -c . |
        "$DOCKER" import --change 'CMD ["bash"]' - "$RUNTIME_IMAGE" >/dev/null
}

builder() {
    have "$BUILDER_IMAGE" && return 0
    log "building $BUILDER_IMAGE from $RUNTIME_IMAGE"
    # This machine's extra trust anchors (here: the TLS-inspecting egress proxy's CA) go into the
    # builder only, so that its curl and cargo reach crates.io as the host does. The runtime base
    # makes no outbound TLS and stays without them.
    local context="$WORK/builder-context"
    rm -rf "$context"
    mkdir -p "$context/ca"
    cp /usr/local/share/ca-certificates/*.crt "$context/ca/" 2>/dev/null || true
    cat >"$context/Dockerfile" <<EOF
FROM $RUNTIME_IMAGE
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update \\
 && apt-get install -y --no-install-recommends build-essential cmake clang libclang-dev \\
      pkg-config ca-certificates curl git \\
 && rm -rf /var/lib/apt/lists/*
EOF
    nice -n 10 "$DOCKER" build -q -t "$BUILDER_IMAGE" "$context" >/dev/null
}

rust() {
    have "$RUST_IMAGE" && return 0
    local src="$RUSTUP_SOURCE/toolchains/$RUST_TOOLCHAIN"
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
runtime
builder
rust
for image in "$RUNTIME_IMAGE" "$BUILDER_IMAGE" "$RUST_IMAGE"; do
    "$DOCKER" push -q "$image" >/dev/null
done
cat <<EOF
builderImage: $BUILDER_IMAGE
rustImage: $RUST_IMAGE
runtimeImage: $RUNTIME_IMAGE
EOF
