#!/usr/bin/env python3
"""Plays conmon / containerd's shim for bunrunc's --console-socket and --pidfd-socket tests.

usage: console-receiver.py SOCKET_PATH pidfd
       console-receiver.py SOCKET_PATH console STEPS_JSON
Listens on SOCKET_PATH, accepts one connection and receives one fd with SCM_RIGHTS.
pidfd:   prints {"name": message text, "pid": the Pid: line of the fd's fdinfo}
console: talks to the container through the received pty master with STEPS_JSON, a list of
         {"send": text} / {"expect": regex, "timeout": s} / {"eof": true} (read until the pty
         closes), then prints {"ok", "failed", "name", "output"}.
"""
import json, os, re, socket, sys, time

sys.dont_write_bytecode = True  # no __pycache__ left in the tree
from ptyio import PtyReader  # noqa: E402 (beside this file)


def receive(path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # The caller waits for SOCKET_PATH to exist: it appears only once we listen (bound under
    # another name first), so a connect never meets a bound socket that refuses it.
    srv.bind(path + ".binding")
    srv.listen(1)
    os.rename(path + ".binding", path)
    srv.settimeout(30)
    conn, _ = srv.accept()
    msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    conn.close()
    srv.close()
    if not fds:
        raise SystemExit("no fd received")
    return msg.decode(errors="replace"), fds[0]


def talk(fd, steps):
    pty = PtyReader(fd)
    for i, step in enumerate(steps):
        deadline = time.monotonic() + step.get("timeout", 10)
        if "send" in step:
            os.write(fd, step["send"].encode())
        elif "expect" in step:
            if not pty.expect(step["expect"], deadline):
                return i, pty
        elif "eof" in step:
            if not pty.drain(deadline):
                return i, pty
    return None, pty


def main():
    path, mode = sys.argv[1], sys.argv[2]
    name, fd = receive(path)
    if mode == "pidfd":
        info = open(f"/proc/self/fdinfo/{fd}").read()
        pid = re.search(r"^Pid:\s*(-?\d+)", info, re.M)
        print(json.dumps({"name": name, "pid": int(pid.group(1)) if pid else None}))
        return
    failed, pty = talk(fd, json.loads(sys.argv[3]))
    print(json.dumps({"ok": failed is None, "failed": failed, "name": name, "output": pty.text()}))


main()
