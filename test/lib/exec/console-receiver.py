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
import json, os, re, select, socket, sys, time


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
    out = bytearray()
    seen = 0
    eof = False

    def pump(deadline):
        nonlocal eof
        left = deadline - time.monotonic()
        if left <= 0 or eof:
            return
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            eof = True
        out.extend(chunk)

    for i, step in enumerate(steps):
        deadline = time.monotonic() + step.get("timeout", 10)
        if "send" in step:
            os.write(fd, step["send"].encode())
        elif "expect" in step:
            pattern = re.compile(step["expect"].encode())
            while True:
                m = pattern.search(out, seen)
                if m:
                    seen = m.end()
                    break
                if eof or time.monotonic() >= deadline:
                    return i, out
                pump(deadline)
        elif "eof" in step:
            while not eof:
                if time.monotonic() >= deadline:
                    return i, out
                pump(deadline)
    return None, out


def main():
    path, mode = sys.argv[1], sys.argv[2]
    name, fd = receive(path)
    if mode == "pidfd":
        info = open(f"/proc/self/fdinfo/{fd}").read()
        pid = re.search(r"^Pid:\s*(-?\d+)", info, re.M)
        print(json.dumps({"name": name, "pid": int(pid.group(1)) if pid else None}))
        return
    failed, out = talk(fd, json.loads(sys.argv[3]))
    print(json.dumps({"ok": failed is None, "failed": failed, "name": name, "output": out.decode(errors="replace")}))


main()
