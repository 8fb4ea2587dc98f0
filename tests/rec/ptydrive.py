#!/usr/bin/env python3
"""Drive a program under a real pseudo-terminal, as a person at a terminal would.

usage: ptydrive.py [--size COLSxROWS] [--timeout S] [--discard] ACTION... -- COMMAND...
ACTION: send:TEXT (\\n, \\r, \\t escapes), expect:TEXT (wait until the output so
far contains it), resize:COLSxROWS (set the window size, SIGWINCH), wait-exit,
rtt:N (type one key N times, each time waiting for its echo; prints the mean
round trip in microseconds on stderr as rtt_us=...).
Prints everything the program wrote (with --discard only the last 64 KiB: for
benchmarks); exits with its exit status, 124 on timeout.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def set_size(fd, cols, rows):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    args = sys.argv[1:]
    size, timeout, discard = (80, 24), 20.0, False
    while args and args[0].startswith("--") and args[0] != "--":
        if args[0] == "--size":
            c, r = args[1].split("x")
            size = (int(c), int(r))
        elif args[0] == "--timeout":
            timeout = float(args[1])
        elif args[0] == "--discard":
            discard = True
            args = args[1:]
            continue
        args = args[2:]
    sep = args.index("--")
    actions, cmd = args[:sep], args[sep + 1:]

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    set_size(fd, *size)
    out = bytearray()
    deadline = time.monotonic() + timeout
    eof = False

    def pump(wait):
        nonlocal eof
        r, _, _ = select.select([fd], [], [], wait)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                eof = True
            out.extend(data)
            if discard and len(out) > 1 << 20:
                del out[:-65536]

    def fail(why):
        sys.stdout.buffer.write(bytes(out))
        sys.stderr.write("ptydrive: %s\n" % why)
        os.kill(pid, signal.SIGKILL)
        sys.exit(124)

    for a in actions:
        kind, _, arg = a.partition(":")
        arg = arg.encode().decode("unicode_escape").encode("latin-1")
        if kind == "send":
            os.write(fd, arg)
        elif kind == "expect":
            pos = 0   # search each byte once: output can be large
            while out.find(arg, min(pos, len(out))) < 0:
                pos = max(0, len(out) - len(arg) + 1)
                if eof or time.monotonic() > deadline:
                    fail("timed out waiting for %r" % arg)
                pump(0.05)
        elif kind == "resize":
            c, r = arg.decode().split("x")
            set_size(fd, int(c), int(r))   # the kernel sends SIGWINCH
        elif kind == "rtt":
            n = int(arg)
            t0 = time.monotonic()
            for i in range(n):
                key = b"abcdefghij"[i % 10:i % 10 + 1]
                mark = len(out)
                os.write(fd, key)
                while key not in out[mark:]:
                    if eof or time.monotonic() > deadline:
                        fail("timed out waiting for the echo")
                    pump(1.0)
                    mark = min(mark, len(out))
            sys.stderr.write("rtt_us=%.1f\n" % ((time.monotonic() - t0) * 1e6 / n))
        elif kind == "wait-exit":
            pass
    while not eof:
        if time.monotonic() > deadline:
            fail("timed out waiting for the program to end")
        pump(0.1)
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(bytes(out))
    sys.stdout.flush()
    sys.exit(os.waitstatus_to_exitcode(status) & 0xFF if hasattr(os, "waitstatus_to_exitcode") else status >> 8)


if __name__ == "__main__":
    main()
