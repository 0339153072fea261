#!/usr/bin/env bash
# Regenerates fuzz/seeds/ from the WebAssembly spec suite: for every .wast (simd_* included), the
# largest valid module (a `module` command, binary form) of at most MAX_BYTES; every valid module
# of a few files whose functions compute addresses at the end of memory from their arguments; the
# largest assert_invalid / assert_malformed binary of at most 1 KiB from a few decoder-heavy files.
# Usage: SHARED=../shared bash fuzz/make-seeds.sh   (needs wast2json and jq)
set -euo pipefail
SHARED=${SHARED:-../shared}
WAST_DIR=$SHARED/testsuite/wasm-spec/wast
OUT=${OUT:-fuzz/seeds}
MAX_BYTES=${MAX_BYTES:-24576}
# files whose invalid/malformed binaries are worth keeping as seeds for the decoder
BAD_FROM="binary binary-leb128 custom data elem global imports memory table type names"
# files all of whose valid modules are kept
ALL_FROM="memory_trap address memory_grow simd_address simd_load_splat simd_store"

[ -d "$WAST_DIR" ] || { echo "make-seeds: $WAST_DIR not found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT"

size_of() { stat -c %s "$1"; }

# largest file among the given ones with size <= $1
pick_largest() {
    local max=$1 best="" best_size=0 f s
    shift
    for f in "$@"; do
        [ -f "$f" ] || continue
        s=$(size_of "$f")
        if [ "$s" -le "$max" ] && [ "$s" -gt "$best_size" ]; then best=$f best_size=$s; fi
    done
    [ -n "$best" ] && echo "$best"
    return 0
}

for wast in "$WAST_DIR"/*.wast; do
    name=$(basename "$wast" .wast)
    dir=$tmp/$name
    mkdir -p "$dir"
    wast2json -o "$dir/$name.json" "$wast" 2>/dev/null || { echo "make-seeds: skip $name" >&2; continue; }
    mapfile -t good < <(jq -r '.commands[] | select(.type == "module" and (.module_type // "binary") == "binary") | .filename' "$dir/$name.json")
    best=$(pick_largest "$MAX_BYTES" "${good[@]/#/$dir/}")
    # a module of the header alone says nothing the others do not
    [ -n "$best" ] && [ "$(size_of "$best")" -gt 8 ] && cp "$best" "$OUT/$name.wasm"
    case " $ALL_FROM " in
    *" $name "*)
        for f in "${good[@]}"; do
            [ "$dir/$f" = "$best" ] && continue
            [ "$(size_of "$dir/$f")" -le "$MAX_BYTES" ] && cp "$dir/$f" "$OUT/$name-${f#"$name".}"
        done
        ;;
    esac
    case " $BAD_FROM " in
    *" $name "*)
        mapfile -t bad < <(jq -r '.commands[] | select((.type == "assert_invalid" or .type == "assert_malformed") and .module_type == "binary") | .filename' "$dir/$name.json")
        best=$(pick_largest 1024 "${bad[@]/#/$dir/}")
        [ -n "$best" ] && cp "$best" "$OUT/$name-bad.wasm"
        ;;
    esac
done
echo "make-seeds: $(ls "$OUT" | wc -l) seeds, $(du -sh "$OUT" | cut -f1) in $OUT"
