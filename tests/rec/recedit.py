#!/usr/bin/env python3
"""Damage a recording the ways an attacker or a crash would (tests only).

usage: recedit.py FILE OP [N [M]]
  frames            print the number of frames
  drop-last         cut the final frame off (a crash before the end)
  cut-inside        cut the file in the middle of its last frame
  swap N M          exchange frames N and M, links included (reordering)
  flip N            change one ciphertext byte of frame N (editing)
  flip-rechain N    change a byte of frame N and recompute every link after it
                    (an attacker who knows the format)
"""
import hashlib
import struct
import sys

HDR = 8 + 16 + 8 + 80 + 24


def frames(data):
    out, pos = [], HDR
    while pos < len(data):
        n = struct.unpack_from("<I", data, pos + 1)[0]
        out.append(bytearray(data[pos:pos + 5 + n + 32]))
        pos += 5 + n + 32
    return out


def rechain(header, fr):
    link = hashlib.blake2b(header, digest_size=32).digest()
    for f in fr:
        link = hashlib.blake2b(link + bytes(f[:-32]), digest_size=32).digest()
        f[-32:] = link


def main():
    path, op = sys.argv[1], sys.argv[2]
    data = open(path, "rb").read()
    header, fr = data[:HDR], frames(data)
    if op == "frames":
        print(len(fr))
        return
    if op == "drop-last":
        fr = fr[:-1]
    elif op == "cut-inside":
        fr[-1] = fr[-1][: len(fr[-1]) // 2]
    elif op == "swap":
        a, b = int(sys.argv[3]), int(sys.argv[4])
        fr[a], fr[b] = fr[b], fr[a]
    elif op in ("flip", "flip-rechain"):
        n = int(sys.argv[3])
        fr[n][5 + 3] ^= 0x01
        if op == "flip-rechain":
            rechain(header, fr)
    else:
        sys.exit("unknown op " + op)
    open(path, "wb").write(header + b"".join(bytes(f) for f in fr))


if __name__ == "__main__":
    main()
