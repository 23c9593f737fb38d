#!/usr/bin/env python3
"""Plays conmon for a terminal container across checkpoint and restore.

usage: tty-keeper.py SOCKET_PATH
Listens on SOCKET_PATH, receives one pty master with SCM_RIGHTS, and copies everything the
container writes on it to stdout until the pty closes (the container is gone), keeping the master
open meanwhile as conmon does.
"""
import os, socket, sys

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(1)
srv.settimeout(300)
conn, _ = srv.accept()
_, fds, _, _ = socket.recv_fds(conn, 4096, 1)
conn.close()
srv.close()
while True:
    try:
        chunk = os.read(fds[0], 4096)
    except OSError:
        break
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    sys.stdout.flush()
