#!/usr/bin/env python3
"""The f32 printing rule checked exactly: for f32 bit patterns, the shortest decimal inside the
value's rounding interval (the closest to the value among the shortest), laid out as Ryu's
format32 does for serde_json ("56.0", "0.001", "1e-7", "3.4028235e38"); compared with what the
service prints (`selftest f32`). Usage: f32_exact.py COUNT SELFTEST-COMMAND...  (e.g.
`f32_exact.py 5000 wasmbox run selftest.wasm`); prints "f32: P passed, F failed"."""
import random
import struct
import subprocess
import sys
from fractions import Fraction


def value(bits):
    exp, mant = (bits >> 23) & 0xFF, bits & 0x7FFFFF
    if exp == 0:
        return Fraction(mant) / 2**149
    return Fraction(mant | 1 << 23) * Fraction(2) ** (exp - 150)


def shortest(bits):
    """(digits, k): the value is digits * 10**k, with no trailing zeros."""
    v = value(bits)
    prev = value(bits - 1) if bits > 0 else Fraction(0)
    nxt = value(bits + 1) if (bits + 1) >> 23 != 0xFF else v + (v - prev)
    lo, hi = (v + prev) / 2, (v + nxt) / 2
    inclusive = (bits & 1) == 0  # an even significand takes the halfway points
    big = 0  # 10**big <= v < 10**(big+1)
    while Fraction(10) ** big > v:
        big -= 1
    while Fraction(10) ** (big + 1) <= v:
        big += 1
    for p in range(1, 12):
        e = big - p + 1
        scale = Fraction(10) ** e
        first = -((-lo / scale).__floor__())  # ceil
        last = (hi / scale).__floor__()
        cands = [m for m in range(first, last + 1)
                 if (lo < m * scale < hi) or (inclusive and (m * scale == lo or m * scale == hi))]
        if cands:
            target = v / scale
            m = min(cands, key=lambda m: (abs(m - target), m % 2))
            k = e
            while m % 10 == 0:
                m //= 10
                k += 1
            return str(m), k
    raise AssertionError("no decimal found for %08x" % bits)


def ryu_format(bits):
    sign = "-" if bits >> 31 else ""
    bits &= 0x7FFFFFFF
    if bits >> 23 == 0xFF:
        return "null"
    if bits == 0:
        return sign + "0.0"
    d, k = shortest(bits)
    n = len(d)
    kk = n + k
    if 0 <= k and kk <= 13:
        s = d + "0" * (kk - n) + ".0"
    elif 0 < kk <= 13:
        s = d[:kk] + "." + d[kk:]
    elif -6 < kk <= 0:
        s = "0." + "0" * (-kk) + d
    elif n == 1:
        s = d + "e" + str(kk - 1)
    else:
        s = d[0] + "." + d[1:] + "e" + str(kk - 1)
    return sign + s


def main():
    count = int(sys.argv[1])
    command = sys.argv[2:] + ["f32"]
    rnd = random.Random(16)
    patterns = [0, 0x80000000, 1, 2, 0x7FFFFF, 0x800000, 0x7F7FFFFF, 0x7F800000, 0xFF800000]
    patterns += [e << 23 for e in range(1, 255)]  # powers of two: the lopsided intervals
    patterns += [(e << 23) | 1 for e in range(1, 255)]
    patterns += [struct.unpack("<I", struct.pack("<f", float(x)))[0]
                 for x in (56.0, 2.5, 0.1, 0.3, 1e-7, 1e13, 1234567.1, 16777217.0)]
    patterns += [rnd.getrandbits(32) for _ in range(count)]
    text = "".join("%08x\n" % b for b in patterns)
    out = subprocess.run(command, input=text, capture_output=True, text=True,
                         check=True).stdout.split("\n")
    passed = failed = 0
    for bits, line in zip(patterns, out):
        got = line.split(" ", 1)[1]
        want = ryu_format(bits)
        if got == want:
            passed += 1
        else:
            failed += 1
            if failed <= 10:
                print("FAIL f32 %08x: printed %s, want %s" % (bits, got, want))
    print("f32: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
