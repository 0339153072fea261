#!/usr/bin/env python3
"""Runs the wasi-testsuite preview1 binaries (../shared/testsuite/wasi) through `wasmbox run`.

Each test runs on a fresh copy of its suite's fixture directories; `root` is preopened as the
guest's "/", `env` and `args` are passed, and the exit code, stdout and stderr are compared with
the test's JSON (missing keys mean exit 0 and no check). Prints one line per failure and ends with
"wasi-testsuite: P passed, F failed". Usage: BUILD=build SHARED=../shared tests/wasi/testsuite.py [-v] [FILTER]
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

BUILD = os.environ.get("BUILD", "build")
SHARED = os.environ.get("SHARED", "../shared")
WASMBOX = os.path.abspath(os.path.join(BUILD, "wasmbox"))
TIMEOUT = 60
# ENGINE=native: every module through the compiler tier (`run --engine native`: compiled into
# the native-code cache of a store root of the run's own, then run from it)
# Each module is compiled first (`wasmbox compile`, at -O2; the Rust ones, which LLVM takes 3-4 s
# each to optimise, at RUST_OPT, default 2: the README's test command uses 0 to keep its time).
ENGINE = os.environ.get("ENGINE", "")
RUST_OPT = os.environ.get("RUST_OPT", "2")
NATIVE_ROOT = tempfile.mkdtemp(prefix="wasi-native-root-") if ENGINE else None


def precompile(wasm):
    level = RUST_OPT if "/rust/" in wasm else "2"
    p = subprocess.run([WASMBOX, "--root", NATIVE_ROOT, "compile", "-q", "-O", level, wasm],
                       capture_output=True, timeout=600)
    return p.stderr.decode("utf-8", "replace").strip() if p.returncode else ""


def run_test(suite_dir, wasm, verbose):
    name = os.path.splitext(os.path.basename(wasm))[0]
    spec_path = os.path.join(suite_dir, name + ".json")
    spec = {}
    if os.path.exists(spec_path):
        with open(spec_path) as f:
            spec = json.load(f)
    with tempfile.TemporaryDirectory(prefix="wasi-test-") as tmp:
        for entry in os.listdir(suite_dir):
            src = os.path.join(suite_dir, entry)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(tmp, entry), symlinks=True)
        for leftover in glob.glob(os.path.join(tmp, "**", "*.cleanup"), recursive=True):
            if os.path.isdir(leftover) and not os.path.islink(leftover):
                shutil.rmtree(leftover)
            else:
                os.unlink(leftover)
        cmd = [WASMBOX, "--root", NATIVE_ROOT, "run", "--engine", ENGINE] if ENGINE else [WASMBOX, "run"]
        if ENGINE == "native":
            problem = precompile(wasm)
            if problem:
                return "compile: " + problem
        if "root" in spec:
            cmd += ["--dir", os.path.join(tmp, spec["root"]) + "::/"]
        for d in spec.get("dirs", []):
            cmd += ["--dir", os.path.join(tmp, d) + "::" + d]
        for k, v in spec.get("env", {}).items():
            cmd += ["--env", f"{k}={v}"]
        cmd += [wasm] + spec.get("args", [])
        try:
            p = subprocess.run(cmd, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"timed out after {TIMEOUT}s"
    problems = []
    want_exit = spec.get("exit_code", 0)
    if p.returncode != want_exit:
        problems.append(f"exit {p.returncode}, want {want_exit}")
    for stream in ("stdout", "stderr"):
        if stream in spec:
            got = getattr(p, stream).decode("utf-8", "replace")
            if got != spec[stream]:
                problems.append(f"{stream} {got!r}, want {spec[stream]!r}")
    if problems and verbose:
        problems.append("stderr: " + p.stderr.decode("utf-8", "replace").strip()[:500])
    return "; ".join(problems)


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv[1:]
    pattern = args[0] if args else ""
    root = os.path.join(SHARED, "testsuite", "wasi", "tests")
    if not os.path.isdir(root):
        print(f"wasi-testsuite: skipped: {root} not found")
        print("wasi-testsuite: 0 passed, 0 failed")
        return 0
    passed = failed = 0
    for suite_dir in sorted(glob.glob(os.path.join(root, "*", "testsuite", "wasm32-wasip1"))):
        suite = suite_dir.split(os.sep)[-3]
        for wasm in sorted(glob.glob(os.path.join(suite_dir, "*.wasm"))):
            label = f"{suite}/{os.path.basename(wasm)}"
            if pattern and pattern not in label:
                continue
            problem = run_test(suite_dir, os.path.abspath(wasm), verbose)
            if problem:
                failed += 1
                print(f"FAIL {label}: {problem}")
            else:
                passed += 1
                if verbose:
                    print(f"ok   {label}")
    if NATIVE_ROOT:
        shutil.rmtree(NATIVE_ROOT, ignore_errors=True)
    label = f"wasi-testsuite (--engine {ENGINE}, Rust at -O{RUST_OPT})" if ENGINE else "wasi-testsuite"
    print(f"{label}: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
