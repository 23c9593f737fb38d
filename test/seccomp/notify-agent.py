#!/usr/bin/env python3
"""A seccomp notify agent for the tests: listens on an AF_UNIX socket, receives the listener fd
and the container process state (written to <state_out>), then answers one notification for
syscall <nr> with return value <val> (any other syscall it sees is let through with
SECCOMP_USER_NOTIF_FLAG_CONTINUE). Prints "ready" once listening.

    notify-agent.py <socket> <state_out> <nr> <val>
"""
import json, os, socket, struct, sys, fcntl

# include/uapi/linux/seccomp.h: struct seccomp_notif is 80 bytes, seccomp_notif_resp 24.
NOTIF_RECV = (3 << 30) | (80 << 16) | (ord("!") << 8) | 0
NOTIF_SEND = (3 << 30) | (24 << 16) | (ord("!") << 8) | 1
FLAG_CONTINUE = 1

path, state_out, want_nr, val = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 65536, 1)
with open(state_out, "w") as f:
    json.dump({"state": json.loads(msg), "fds": len(fds)}, f)
listener = fds[0]
while True:
    buf = bytearray(80)
    fcntl.ioctl(listener, NOTIF_RECV, buf, True)
    notif_id, pid, flags, nr = struct.unpack_from("<QIIi", buf, 0)
    if nr == want_nr:
        fcntl.ioctl(listener, NOTIF_SEND, bytearray(struct.pack("<QqiI", notif_id, val, 0, 0)), True)
        break
    fcntl.ioctl(listener, NOTIF_SEND, bytearray(struct.pack("<QqiI", notif_id, 0, 0, FLAG_CONTINUE)), True)
