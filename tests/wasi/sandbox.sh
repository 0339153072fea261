#!/usr/bin/env bash
# WASI sandbox tests: builds the guests in tests/wasi/sandbox/ (clang --target=wasm32-wasi) into
# $BUILD/tests/wasi/, and runs each on a fresh tree twice — with openat2 and with the fallback
# component walk forced (WASMBOX_WASI_NO_OPENAT2=1) — as `wasmbox run --dir TMP/root::/ GUEST`.
# Every line a guest prints must be "ok NAME"; afterwards nothing outside TMP/root may have
# changed (the secret file, the outside directory, no new files). Prints one final line
# "wasi-sandbox: P passed, F failed" (P, F = checks).
set -uo pipefail
BUILD=${BUILD:-build}
SRC=$(cd "$(dirname "$0")" && pwd)/sandbox
OUT=$BUILD/tests/wasi
WASMBOX=$BUILD/wasmbox
CLANG=${CLANG:-clang}
pass=0
fail=0

ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

mkdir -p "$OUT"
guests=()
for c in "$SRC"/*.c; do
    name=$(basename "$c" .c)
    if "$CLANG" --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -o "$OUT/$name.wasm" "$c"; then
        guests+=("$name")
    else
        bad "build $name"
    fi
done
if [ ! -x "$WASMBOX" ]; then
    bad "no $WASMBOX (run make first)"
    echo "wasi-sandbox: $pass passed, $fail failed"
    exit 1
fi

# The guest's descriptor table holds 4096 entries; the host needs as many fds to fill it.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 8192 ]; then
    ulimit -n 8192 2>/dev/null || echo "# cannot raise the fd limit to 8192: emfile checks will fail"
fi

TMP=$(mktemp -d)
LOG=$(mktemp)
trap 'chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP" "$LOG"' EXIT

# A fresh tree: TMP/root is the preopen; TMP/secret.txt and TMP/outside/ are outside it.
make_tree() {
    chmod -R u+w "$TMP" 2>/dev/null
    rm -rf "${TMP:?}"/*
    mkdir -p "$TMP/root/dir/sub" "$TMP/outside"
    printf SECRET >"$TMP/secret.txt"
    printf outside >"$TMP/outside/o.txt"
    printf hello >"$TMP/root/file.txt"
    printf inner >"$TMP/root/dir/inner.txt"
    ln -s dir/inner.txt "$TMP/root/link_in"
    ln -s dir "$TMP/root/link_dir_in"
    ln -s ../file.txt "$TMP/root/dir/link_up"
    ln -s ../secret.txt "$TMP/root/link_out_rel"
    ln -s "$TMP/secret.txt" "$TMP/root/link_out_abs"
    ln -s "$TMP/root/file.txt" "$TMP/root/link_abs_inside"
    ln -s ../outside "$TMP/root/link_out_dir"
    ln -s ../../secret.txt "$TMP/root/dir/link_out_deep"
    ln -s link_dir_in/../../secret.txt "$TMP/root/chain_out"
    ln -s .. "$TMP/root/link_dotdot"
    ln -s loop2 "$TMP/root/loop1"
    ln -s loop1 "$TMP/root/loop2"
    ln -s self "$TMP/root/self"
    # a fixed old time, so that any change to the outside shows in the snapshot
    touch -h -d 2001-01-01 "$TMP/secret.txt" "$TMP/outside" "$TMP/outside/o.txt" "$TMP"
}

# Everything outside the preopen: names, types, sizes, times, contents.
outside_snapshot() {
    (cd "$TMP" && find . -path ./root -prune -o -printf '%p %y %s %T@ %C@\n' | sort &&
        cat secret.txt outside/o.txt)
}

run_guest() { # run_guest NAME MODE
    local name=$1 mode=$2 rc before after
    make_tree
    before=$(outside_snapshot)
    if [ "$mode" = walk ]; then
        WASMBOX_WASI_NO_OPENAT2=1 "$WASMBOX" run --dir "$TMP/root::/" "$OUT/$name.wasm" >"$LOG" 2>&1
    else
        "$WASMBOX" run --dir "$TMP/root::/" "$OUT/$name.wasm" >"$LOG" 2>&1
    fi
    rc=$?
    local n=0 summary=""
    while IFS= read -r line; do
        case $line in
        "ok "*) ok "$name[$mode] ${line#ok }"; n=$((n + 1)) ;;
        "FAIL "*) bad "$name[$mode] ${line#FAIL }"; n=$((n + 1)) ;;
        "# "*" passed, "*" failed") summary=${line#\# } ;;
        "#"*) ;;
        *) bad "$name[$mode] unexpected output: $line" ;;
        esac
    done <"$LOG"
    if [ "$n" -eq 0 ]; then bad "$name[$mode] printed no checks"; fi
    # the guest's own count must match the lines seen (a garbled line hides a check)
    local p=${summary%% passed*} f=${summary#*passed, }
    f=${f%% failed*}
    if [ -z "$summary" ] || [ $((p + f)) -ne "$n" ]; then
        bad "$name[$mode] saw $n checks, the guest reports '${summary:-nothing}'"
    fi
    if [ "$rc" -ne 0 ]; then bad "$name[$mode] exit status $rc"; fi
    after=$(outside_snapshot)
    if [ "$before" = "$after" ]; then
        ok "$name[$mode] outside untouched"
    else
        bad "$name[$mode] outside changed: $(diff <(echo "$before") <(echo "$after") | head -5)"
    fi
    if [ "$(cat "$TMP/secret.txt")" = SECRET ]; then
        ok "$name[$mode] secret intact"
    else
        bad "$name[$mode] secret changed"
    fi
}

for name in "${guests[@]}"; do
    for mode in openat2 walk; do
        run_guest "$name" "$mode"
    done
done

echo "wasi-sandbox: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
