#!/usr/bin/env bash
# Builds and caches the Linux base images the tests use (there is no Docker Hub here), outside the
# checkout, keyed by the Debian package versions they are made from; rebuilt only when missing.
#
#   scripts/test-images.sh busybox|debian            prints the cached rootfs tarball (builds it)
#   scripts/test-images.sh load busybox|debian WASMBOX_BINARY
#                                                     imports it as busybox:latest / debian:bookworm
#                                                     into $WASMBOX_ROOT (skipped when already there)
#   scripts/test-images.sh changes busybox|debian [TAR]
#                                                     prints the --change instructions, one a line
#
# Environment: WASMBOX_TEST_CACHE (default /var/cache/wasmbox-tests), DEBIAN_MIRROR (default
# http://deb.debian.org/debian), WASMBOX_TEST_OFFLINE=1 (debian: use the newest cached tarball
# instead of asking the mirror which bookworm is current).
#
# The tarballs are plain rootfs tarballs (what `import` takes): pax format, entries sorted by
# name, no "./" prefix, numeric owners (root; busybox's /home/user is 1000:1000; Debian's files
# keep their shadow/staff/mail groups), mtime 0, no xattrs, no device nodes (/dev is an empty
# mount point) -- so the same inputs give the same bytes and the same digest. They are written under a temporary name and renamed into place; concurrent callers
# serialize on a lock file, so two test suites starting together build an image once.
set -euo pipefail
umask 022
export LC_ALL=C

CACHE=${WASMBOX_TEST_CACHE:-/var/cache/wasmbox-tests}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
# Bump when the recipe below changes (users, groups, cleanup, tar options): it is part of every
# key, so a changed recipe never reuses a tarball made by the old one.
RECIPE=1

die() { echo "test-images: $*" >&2; exit 1; }
log() { echo "test-images: $*" >&2; }

# Installs Debian packages that are missing (as scripts/deps.sh does), quietly.
need_pkg() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run scripts/deps.sh as root)"
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
        { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >&2; }
}

# "1:1.35.0-4+deb12u1" -> "1_1.35.0-4+deb12u1" (a file name without a colon).
file_key() { printf '%s' "$1" | tr ':/' '__'; }

# Writes DIR as a deterministic rootfs tarball at OUT (via OUT.tmp.PID, then a rename).
make_tar() {
    local dir=$1 out=$2 tmp="$2.tmp.$$"
    (cd "$dir" && find . -mindepth 1 -printf '%P\n' | sort) |
        tar --create --file="$tmp" --directory="$dir" --no-recursion --files-from=- \
            --format=posix --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
            --numeric-owner --mtime=@0 --no-acls --no-xattrs --no-selinux
    mv -f "$tmp" "$out"
}

# Unmounts whatever is mounted under DIR, deepest first (an interrupted debootstrap leaves /proc
# and /sys mounted in its target).
unmount_under() {
    local m
    while read -r m; do
        if [ -n "$m" ]; then umount -l "$m" 2>/dev/null || true; fi
    done < <(awk -v d="$(realpath "$1")/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

# Removes DIR without following anything into another file system.
remove_tree() {
    [ -d "$1" ] || return 0
    unmount_under "$1"
    rm -rf --one-file-system "$1"
}

# Build directories: $CACHE/build.NAME.XXXXXX, removed on exit (success or not).
WORKDIRS=()
cleanup() { local d; for d in "${WORKDIRS[@]+"${WORKDIRS[@]}"}"; do remove_tree "$d"; done; }
trap cleanup EXIT
new_workdir() { # sets W
    W=$(mktemp -d "$CACHE/build.$1.XXXXXX")
    WORKDIRS+=("$W")
}

# Runs "$@" holding the cache lock (one builder at a time; the second finds the tarball made).
# Holding it, no other build runs: build directories left by a killed build are removed.
with_lock() {
    local d
    exec 9>"$CACHE/.lock"
    flock 9
    for d in "$CACHE"/build.*; do [ -d "$d" ] && remove_tree "$d"; done
    "$@"
    flock -u 9
}

# ---- busybox -----------------------------------------------------------------------------------
# Key: the busybox-static package version (+ RECIPE). The binary is the installed /bin/busybox
# when busybox-static provides it, else the package's .deb downloaded by apt and unpacked.

busybox_version() {
    local v
    v=$(dpkg-query -W -f='${Status} ${Version}' busybox-static 2>/dev/null | sed -n 's/^install ok installed //p')
    [ -n "$v" ] || v=$(apt-cache policy busybox-static 2>/dev/null | sed -n 's/^ *Candidate: //p')
    if [ -z "$v" ] || [ "$v" = "(none)" ]; then
        die "busybox-static is neither installed nor available from apt"
    fi
    echo "$v"
}

busybox_path() { echo "$CACHE/busybox-$(file_key "$(busybox_version)")-r$RECIPE.tar"; }

build_busybox() {
    local out=$1 w root bin v
    [ -f "$out" ] && return 0
    v=$(busybox_version)
    log "building $(basename "$out")"
    new_workdir busybox
    w=$W
    root=$w/rootfs
    mkdir -p "$root"
    if dpkg-query -W -f='${Status} ${Version}' busybox-static 2>/dev/null | grep -qx "install ok installed $v" &&
        [ "$(dpkg -S /bin/busybox 2>/dev/null | cut -d: -f1)" = busybox-static ]; then
        bin=/bin/busybox
    else
        (cd "$w" && apt-get download -q "busybox-static=$v" >&2)
        dpkg-deb -x "$w"/busybox-static_*.deb "$w/deb"
        bin=$w/deb/bin/busybox
    fi
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,root,home/user,tmp,var/tmp,var/spool/mail}
    install -m 0755 "$bin" "$root/bin/busybox"
    local applet
    while read -r applet; do
        if [ -z "$applet" ] || [ "$applet" = bin/busybox ]; then continue; fi
        mkdir -p "$root/$(dirname "$applet")"
        ln -sfn /bin/busybox "$root/$applet"
    done < <("$root/bin/busybox" --list-full)
    [ -L "$root/bin/sh" ] || ln -sfn /bin/busybox "$root/bin/sh"
    # Users and groups as Docker's busybox image has them, plus `user` (1000) with supplementary
    # groups so `-u user`, `-u 1000:100` and `id -G` can be tested.
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root,user
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:user
user:x:1000:
nogroup:x:65534:
EOF
    cat >"$root/etc/shadow" <<'EOF'
root:*:10933:0:99999:7:::
daemon:*:10933:0:99999:7:::
bin:*:10933:0:99999:7:::
sys:*:10933:0:99999:7:::
sync:*:10933:0:99999:7:::
mail:*:10933:0:99999:7:::
www-data:*:10933:0:99999:7:::
operator:*:10933:0:99999:7:::
user:*:10933:0:99999:7:::
nobody:*:10933:0:99999:7:::
EOF
    chmod 0644 "$root/etc/passwd" "$root/etc/group"
    chmod 0640 "$root/etc/shadow"
    chmod 1777 "$root/tmp" "$root/var/tmp"
    chmod 0700 "$root/root"
    chown -R 1000:1000 "$root/home/user"
    chown -R 0:0 "$root/bin" "$root/etc"
    make_tar "$root" "$out"
}

# ---- debian ------------------------------------------------------------------------------------
# Key: a hash of (RECIPE, the debootstrap version, the SHA256 of bookworm's
# main/binary-amd64/Packages.xz as listed in the suite's Release file). A hash of the built
# image's dpkg status would be exact but needs the minutes-long debootstrap to know it; the
# Packages index is what debootstrap resolves every version from, and it changes exactly when a
# package version in bookworm changes (bookworm only moves at point releases), while the
# debootstrap version decides which packages minbase installs. The Release file comes from the
# mirror (a ~100 KB request, sub-second); offline, from the host's apt lists when they are
# bookworm's; failing both (or with WASMBOX_TEST_OFFLINE=1), the newest cached tarball is used.
# The image's resulting package list is kept next to it as debian-bookworm-KEY.packages.

release_file() {
    local f
    if [ "${WASMBOX_TEST_OFFLINE:-0}" != 1 ] &&
        curl -fsS --max-time 20 "$MIRROR/dists/$SUITE/Release" 2>/dev/null; then
        return 0
    fi
    for f in /var/lib/apt/lists/*_dists_"$SUITE"_InRelease /var/lib/apt/lists/*_dists_"$SUITE"_Release; do
        [ -f "$f" ] && { cat "$f"; return 0; }
    done
    return 1
}

debian_key() {
    local rel idx
    rel=$(release_file) || return 1
    idx=$(printf '%s\n' "$rel" | awk '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 }
        s && $3 == "main/binary-amd64/Packages.xz" { print $1; exit }')
    [ -n "$idx" ] || return 1
    printf 'recipe=%s\ndebootstrap=%s\nsuite=%s\npackages=%s\n' "$RECIPE" \
        "$(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null || echo none)" "$SUITE" "$idx" |
        sha256sum | cut -c1-16
}

debian_path() {
    local key newest
    if key=$(debian_key); then
        echo "$CACHE/debian-$SUITE-$key.tar"
        return 0
    fi
    newest=$(find "$CACHE" -maxdepth 1 -name "debian-$SUITE-*.tar" -printf '%T@ %p\n' 2>/dev/null |
        sort -rn | head -1 | cut -d' ' -f2-)
    [ -n "$newest" ] || die "cannot tell which $SUITE is current (no mirror, no apt lists) and none is cached"
    log "offline: using the cached $(basename "$newest")"
    echo "$newest"
}

build_debian() {
    local out=$1 w root start
    [ -f "$out" ] && return 0
    need_pkg debootstrap
    log "building $(basename "$out") with debootstrap --variant=minbase $SUITE (a few minutes)"
    start=$(date +%s)
    new_workdir debian
    w=$W
    root=$w/rootfs
    # nice: the machine is shared; debootstrap is mostly dpkg unpacking.
    nice -n 10 debootstrap --variant=minbase --arch=amd64 "$SUITE" "$root" "$MIRROR" >"$w/log" 2>&1 || {
        tail -20 "$w/log" >&2
        die "debootstrap failed (log above)"
    }
    unmount_under "$root" # debootstrap unmounts what it mounted; in case it did not
    # What Docker's debian image does to stay small, and nothing of the host's: no package
    # caches or lists (run apt-get update first), no logs, no host resolv.conf/hostname, an
    # empty /dev and /run, apt's docker-clean hook; and, as debian:bookworm-slim has, dpkg
    # excludes for docs and man pages, so images built on it with `RUN apt-get install` (the
    # MariaDB test image) stay small -- the packages debootstrap installed keep theirs.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
        "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/var/cache/debconf/*-old \
        "$root"/var/lib/dpkg/*-old "$root"/var/cache/ldconfig/aux-cache "$root"/debootstrap
    find "$root/dev" "$root/run" "$root/tmp" "$root/var/tmp" -mindepth 1 -delete
    mkdir -p "$root/var/lib/apt/lists/partial" "$root/var/cache/apt/archives/partial"
    rm -f "$root/etc/resolv.conf" "$root/etc/hostname" "$root/etc/machine-id"
    : >"$root/etc/hostname"
    : >"$root/etc/resolv.conf"
    printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$root/etc/apt/sources.list"
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
    printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n' \
        >"$root/etc/dpkg/dpkg.cfg.d/docker-excludes"
    { echo "# debootstrap $(dpkg-query -W -f='${Version}' debootstrap) --variant=minbase $SUITE $MIRROR"
      dpkg-query --admindir "$root/var/lib/dpkg" -W; } >"${out%.tar}.packages.tmp.$$"
    make_tar "$root" "$out"
    mv -f "${out%.tar}.packages.tmp.$$" "${out%.tar}.packages"
    log "built $(basename "$out") in $(($(date +%s) - start)) s"
}

# ---- commands ----------------------------------------------------------------------------------

image_path() {
    case $1 in
    busybox) busybox_path ;;
    debian) debian_path ;;
    *) die "unknown image \"$1\" (busybox or debian)" ;;
    esac
}

ensure_image() {
    local name=$1 out
    trap cleanup EXIT # also when run in a $(...) subshell
    mkdir -p "$CACHE"
    out=$(image_path "$name")
    if [ ! -f "$out" ]; then
        case $name in
        busybox) need_pkg busybox-static; out=$(busybox_path); with_lock build_busybox "$out" ;;
        debian) with_lock build_debian "$out" ;;
        esac
    fi
    echo "$out"
}

image_ref() {
    case $1 in
    busybox) echo busybox:latest ;;
    debian) echo debian:$SUITE ;;
    esac
}

# The --change instructions: the CMD and PATH the Docker Hub images have, and a label naming the
# tarball, by which `load` sees that the image is already in a store. Shared with podman_load_image.
image_changes() {
    local tar=$1
    case $2 in
    busybox) echo 'CMD ["sh"]' ;;
    debian) echo 'CMD ["bash"]' ;;
    esac
    echo 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    echo "LABEL org.wasmbox.test-image=$(basename "$tar" .tar)"
}

load_image() {
    local name=$1 bin=$2 tar ref have args=() c
    [ -x "$bin" ] || die "not an executable: $bin"
    tar=$(ensure_image "$name")
    ref=$(image_ref "$name")
    have=$("$bin" image inspect --format '{{index .Config.Labels "org.wasmbox.test-image"}}' "$ref" 2>/dev/null || true)
    if [ "$have" = "$(basename "$tar" .tar)" ]; then
        log "$ref is already loaded from $(basename "$tar")"
        return 0
    fi
    while IFS= read -r c; do args+=(-c "$c"); done < <(image_changes "$tar" "$name")
    "$bin" import --platform linux/amd64 "${args[@]}" -m "scripts/test-images.sh $name" "$tar" "$ref" >/dev/null
    log "loaded $ref from $(basename "$tar")"
}

usage() {
    echo "usage: $0 busybox|debian | load busybox|debian WASMBOX_BINARY | changes busybox|debian [TAR]" >&2
    exit 2
}

case ${1:-} in
busybox | debian) [ $# -eq 1 ] || usage; ensure_image "$1" ;;
load) [ $# -eq 3 ] || usage; load_image "$2" "$3" ;;
changes)
    if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
    t=${3:-$(ensure_image "$2")}
    image_changes "$t" "$2"
    ;;
*) usage ;;
esac
