#!/usr/bin/env bash
# Installs the Debian 12 packages wasmbox needs to build and test (idempotent; run as root).
set -euo pipefail
packages=(
    build-essential make gcc clang lld llvm libclang-rt-14-dev  # compilers, libFuzzer runtime
    llvm-14-dev libllvm14  # the compiler tier: LLVM's C API headers; libLLVM-14 dlopen'ed (docs/native.md)
    wabt                 # wat2wasm, wast2json (spec tests are converted at build time)
    wasi-libc libclang-rt-14-dev-wasm32  # C to wasm32-wasi (examples, WASI tests)
    curl                 # HTTP tests
    jq                   # JSON checks in tests/e2e/build.sh
    python3-jsonschema   # OCI schema checks in tests/e2e/archive.sh
    libjansson-dev       # JSON (image store, spec-test runner)
    musl-tools           # musl-gcc: the static core, build/wasmbox (docs/binaries.md)
    libarchive-dev libssl-dev libcurl4-openssl-dev  # tar, SHA-256, HTTP (dlopen'ed when needed)
    docker-registry apache2-utils openssl  # registry tests: a real registry, htpasswd, tokens
    skopeo               # interop tests for images
    hyperfine python3    # benchmarks
    busybox-static debootstrap  # Linux test images (scripts/test-images.sh)
    podman runc uidmap catatonit  # the reference runtime, podman 4.3 + runc (tests/linux/podman.sh)
    aardvark-dns libnftables1 libnftables-dev nftables  # networks: names (aardvark.c), firewall (nft.c; nft for tests)
    libseccomp-dev libcap-dev  # seccomp filters and capabilities of Linux containers
    libyaml-0-2 libyaml-dev  # Compose files (src/compose/yaml.c dlopens libyaml-0.so.2)
    mariadb-server       # the demo's order service against a real MariaDB (tests/wasi/microservice.sh)
    protobuf-c-compiler libprotobuf-c-dev  # test oracle only (tests/shim/oracle.sh); the shim never links it
    containerd           # the shim's peer (tests/linux/shim.sh, bench/shim.sh): containerd 1.6 and ctr
    docker.io            # dockerd 20.10 with --add-runtime wasmbox-runc (tests/linux/oci.sh)
    chromium             # the microservice demo's page in a headless browser (tests/linux/microservice_browser.py)
    ca-certificates
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
        exit 1
    fi
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
