#!/usr/bin/env python3
"""Run a command under a pseudo-terminal and press Ctrl+C in it, as a user would.

usage: pty_ctrlc.py WAIT_FOR SECOND_AFTER -- CMD...
  Waits (at most 60 s) until the command's output contains WAIT_FOR, waits 0.5 s more, writes
  Ctrl+C (0x03) to the terminal (the line discipline sends SIGINT to the foreground process
  group), and, when SECOND_AFTER >= 0, a second Ctrl+C that many seconds after the first.
  Prints one line "rc=N first=SECONDS" (SECONDS from the first Ctrl+C to the command's exit),
  then the command's output."""
import os
import pty
import select
import sys
import time


def main():
    wait_for = sys.argv[1].encode()
    second_after = float(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    deadline = time.monotonic() + 60
    first = second = None
    done = False
    status = 0
    while not done:
        now = time.monotonic()
        if first is None and wait_for in out and now > seen + 0.5:
            os.write(fd, b"\x03")
            first = now
        if first is not None and second is None and second_after >= 0 and now - first >= second_after:
            os.write(fd, b"\x03")
            second = now
        if now > deadline:
            os.kill(pid, 9)
        r, _, _ = select.select([fd], [], [], 0.02)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if data:
                if wait_for not in out and wait_for in out + data:
                    seen = time.monotonic()
                out += data
                continue
        got, st = os.waitpid(pid, os.WNOHANG)
        if got:
            status = st
            done = True
    end = time.monotonic()
    rc = os.waitstatus_to_exitcode(status)
    took = end - first if first is not None else -1
    print("rc=%d first=%.2f" % (rc, took))
    sys.stdout.write(out.decode(errors="replace"))


seen = 0.0
if __name__ == "__main__":
    main()
