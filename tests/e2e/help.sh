#!/usr/bin/env bash
# End-to-end tests of the help (issue #12 item 5): every command and subcommand prints its usage
# and all its flags for --help and -h (exit 0, stdout), management commands (container, image,
# buildx) list their subcommands, and flag errors are Docker's (exit 125) for the commands that
# share the flag parser.
# Usage: BUILD=build bash tests/e2e/help.sh   (prints "e2e-help: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

expect() { # NAME WANT_EXIT WANT_STDOUT WANT_STDERR_SUBSTRING -- CMD...
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local out err rc
    out=$("$@" 2>"$T/err")
    rc=$?
    err=$(cat "$T/err")
    if [ "$rc" != "$want_rc" ] || [ "$out" != "$want_out" ] ||
        { [ -n "$want_err" ] && [[ "$err" != *"$want_err"* ]]; }; then
        failed=$((failed + 1))
        echo "FAIL $name: exit $rc (want $want_rc)"
        echo "  stdout: $(printf %q "$out") (want $(printf %q "$want_out"))"
        echo "  stderr: $err"
    else
        passed=$((passed + 1))
    fi
}

# help_ok NAME HELPFLAG FLAGS -- CMD...: `wasmbox CMD HELPFLAG` exits 0 and prints its usage on
# stdout: first "Usage:  wasmbox ..." naming the command (its last word), then each of FLAGS
# ("-s,_--long" or "--long") at the start of an option line
help_ok() {
    local name=$1 hflag=$2 flags=$3
    shift 4
    local out rc bad="" last=${*: -1}
    out=$("$WB" "$@" "$hflag" 2>"$T/err")
    rc=$?
    [ "$rc" = 0 ] || bad="exit $rc"
    out=${out#$'\n'} # Docker's help starts with an empty line; ours may not
    head -1 <<<"$out" | grep -qE "^Usage:  wasmbox ([a-z]+ )?$last( |$)" || bad="$bad; no usage line"
    for f in $flags; do
        f=${f//_/ } # "-t,_--time" -> "-t, --time"
        local re="${f//./\\.}"
        [[ "$f" == --* ]] && re="(-[a-zA-Z], )?$re" # a long flag may have its shorthand before
        grep -qE -- "^ +$re( |$)" <<<"$out" || bad="$bad; $f not listed"
    done
    if [ -n "$bad" ]; then
        failed=$((failed + 1))
        echo "FAIL $name: $bad"
        echo "$out" | head -5 | sed 's/^/  | /'
    else
        passed=$((passed + 1))
    fi
}

# What each command parses (short flags as "-s,_--long")
declare -A FLAGS=(
    [ps]="-a,_--all -f,_--filter --format -l,_--latest --no-trunc -q,_--quiet"
    [images]="-a,_--all --digests -f,_--filter --format --no-trunc -q,_--quiet"
    [inspect]="-f,_--format -s,_--size --type"
    [stop]="-t,_--time"
    [restart]="-t,_--time"
    [kill]="-s,_--signal"
    [rm]="-f,_--force -v,_--volumes"
    [wait]=""
    [start]="-a,_--attach -i,_--interactive"
    [logs]="-f,_--follow --since -n,_--tail -t,_--timestamps"
    [stats]="-a,_--all --format --no-stream --no-trunc"
    [build]="--build-arg -f,_--file --force-rm --iidfile --no-cache --platform --progress --pull -q,_--quiet --rm -t,_--tag --target"
    [pull]="-a,_--all-tags --platform -q,_--quiet --tls-verify=false --insecure-registry"
    [push]="-q,_--quiet --tls-verify=false --insecure-registry"
    [login]="-u,_--username -p,_--password --password-stdin --tls-verify=false --insecure-registry"
    [logout]=""
    [rmi]="-f,_--force --no-prune"
    [tag]=""
    [save]="--format -o,_--output"
    [load]="-i,_--input -q,_--quiet"
    [import]="-c,_--change -m,_--message --platform"
    [version]="-f,_--format"
    [image_inspect]="-f,_--format"
    [image_prune]="-a,_--all -f,_--force"
    [image_export-wasm]="-o,_--output"
    [container_prune]="-f,_--force"
    [container_inspect]="-f,_--format -s,_--size"
    [buildx_build]="--build-arg -f,_--file --load --no-cache --platform --push -q,_--quiet -t,_--tag --target"
    [buildx_ls]="--format --no-trunc"
    [buildx_version]=""
    [exec]="-d,_--detach -e,_--env -i,_--interactive --privileged -t,_--tty -u,_--user -w,_--workdir"
    [pause]=""
    [unpause]=""
    [top]=""
    [diff]=""
    [commit]="-a,_--author -m,_--message -p,_--pause"
    [cp]="-a,_--archive -L,_--follow-link -q,_--quiet"
    [export]="-o,_--output"
)
# run and create: every flag src/cli/run_opts.c parses, read from its source, so a new flag
# without a help line fails here
RUN_FLAGS=""
for f in $(grep -oE '(is_opt|strcmp)\(a, "--[a-z-]+"\)' src/cli/run_opts.c | grep -oE -- '--[a-z-]+' | grep -vx -- --help | sort -u); do
    RUN_FLAGS="$RUN_FLAGS $f"
done
for s in d:detach i:interactive t:tty e:env v:volume w:workdir l:label m:memory; do
    RUN_FLAGS="$RUN_FLAGS -${s%%:*},_--${s#*:}"
done
FLAGS[run]=$RUN_FLAGS
FLAGS[create]=$RUN_FLAGS
expect run-flags-found 0 "yes" "" -- bash -c "[ $(wc -w <<<"$RUN_FLAGS") -ge 30 ] && echo yes"

for cmd in run create start ps logs stop restart kill rm wait stats build pull push login logout \
    images inspect rmi tag save load import version exec pause unpause top diff commit cp export; do
    help_ok "$cmd--help" --help "${FLAGS[$cmd]}" -- "$cmd"
    help_ok "$cmd-h" -h "${FLAGS[$cmd]}" -- "$cmd"
done

# subcommands: container ..., image ..., buildx ...
container_subs="create inspect kill logs ls prune restart rm run start stats stop wait"
image_subs="build export-wasm import inspect load ls prune pull push rm save tag"
buildx_subs="build ls version"
sub_flags() { # GROUP SUB: the flags of `GROUP SUB`
    local k="$1_$2"
    [ -n "${FLAGS[$k]+x}" ] && { echo "${FLAGS[$k]}"; return; }
    case "$2" in
    ls) [ "$1" = image ] && echo "${FLAGS[images]}" || echo "${FLAGS[ps]}" ;;
    rm) [ "$1" = image ] && echo "${FLAGS[rmi]}" || echo "${FLAGS[rm]}" ;;
    *) echo "${FLAGS[$2]}" ;;
    esac
}
for g in container image buildx; do
    subs_var="${g}_subs"
    for s in ${!subs_var}; do
        flags=$(sub_flags "$g" "$s")
        help_ok "$g-$s--help" --help "$flags" -- "$g" "$s"
        out=$("$WB" "$g" "$s" --help 2>/dev/null)
        expect "$g-$s-h-exit" 0 "$out" "" -- "$WB" "$g" "$s" -h
    done
    # the group's own help: with --help, -h, or no subcommand (exit 0, as Docker)
    for how in --help -h ""; do
        out=$("$WB" "$g" $how 2>"$T/err")
        rc=$?
        bad=""
        [ "$rc" = 0 ] || bad="exit $rc"
        [[ "$out" == "Usage:  wasmbox $g COMMAND"* ]] || bad="$bad; no usage line"
        grep -qx "Commands:" <<<"$out" || bad="$bad; no Commands:"
        grep -qF "Run 'wasmbox $g COMMAND --help' for more information on a command." <<<"$out" ||
            bad="$bad; no Run line"
        for s in ${!subs_var}; do
            grep -qE "^  $s +[A-Z]" <<<"$out" || bad="$bad; $s not listed"
        done
        if [ -n "$bad" ]; then
            failed=$((failed + 1))
            echo "FAIL $g-help '$how': $bad"
        else
            passed=$((passed + 1))
        fi
    done
done
check_top() { "$WB" --help | grep -qE "^  $1 +[A-Z]"; }
for c in buildx container image; do
    if check_top $c; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL top-help-lists-$c"; fi
done

# --help is never taken for a container name or a flag error
expect wait-help-no-lookup 0 "" "" -- bash -c "'$WB' wait --help | grep -q 'No such container' && echo bad; true"
# Docker's flag errors, for the commands that share the parser
for cmd in ps stop restart kill rm wait start logs inspect stats images rmi tag version \
    "image inspect" "image prune" "container prune" "container inspect" "buildx ls" "buildx build"; do
    expect "unknown-flag-$cmd" 125 "" "unknown flag: --frob
See 'wasmbox $cmd --help'." -- "$WB" $cmd --frob x
done
expect shorthand-error 125 "" "unknown shorthand flag: 'z' in -az" -- "$WB" ps -az
expect needs-argument 125 "" "flag needs an argument: --time" -- "$WB" stop x --time
expect int-flag 125 "" "invalid argument \"soon\" for \"-t, --time\" flag" -- "$WB" stop -t soon x
expect grouped-shorts 0 "" "" -- "$WB" ps -aq
expect flags-after-args 1 "" "No such container: nothing" -- "$WB" stop nothing -t 1

echo "e2e-help: $passed passed, $failed failed"
[ "$failed" = 0 ]
