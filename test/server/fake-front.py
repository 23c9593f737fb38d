#!/usr/bin/env python3
"""Attacker's tools against the resident server's socket (test/server/attacks.test.ts).

  impostor LOG PATH|- [ABSTRACT_NAME...]   listen where a server might be looked for; log what
                                           each connection delivers (bytes, fds), until killed
  silent PATH N SECONDS                    hold N connections open without a word
  fill PATH SECONDS                        connect until the listen backlog is full (EAGAIN),
                                           say "full N", hold them
  request PATH KIND ARG...                 a Request of KIND (1 call, 2 the old "continue");
                                           prints the server's first record's op
  request-fds PATH ARG...                  a call Request carrying our stdio (fds belong to Go)
  status-first PATH                        a Status record instead of a Request; prints the reply
  go PATH PROOF ARG...                     a call Request, then after Begin a Go carrying our stdio and
                                           PROOF: "none", "devnull", or "ns:PID" (our open of
                                           /proc/PID/ns/mnt); prints the server's answer to Go
  handoff PATH SERVER_PID ARG...           a full-root process connects and stays; a child without
                                           capabilities (no_new_privs) sends the call and Go
  landlocked CMD...                        Landlock: read-only everywhere, writes only under /dev;
                                           then exec CMD
  filtered CMD...                          an allow-all seccomp filter, then exec CMD
  capless-bind PATH                        as root without capabilities: put a socket at PATH
  epipe CMD...                             run CMD with a stderr nobody reads (its read end
                                           closed); prints its exit status
  reuse PATH ARG...                        pid reuse: connect (the server's pidfd names us), fork
                                           a sender, exit, let a full-root process take our pid
                                           (ns_last_pid), then send the Request; prints the reply
"""
import array, os, socket, struct, sys, time

MAGIC = 0x31515242
OPS = {1: "fallback", 2: "exit", 3: "spawn", 5: "wait", 6: "begin"}


def request(kind, argv, env=()):
    strings = b"".join(s.encode() + b"\0" for s in list(argv) + list(env))
    return struct.pack("<IIiIII", MAGIC, kind, 0, len(argv), len(env), len(strings)) + strings


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    return s


def send_with_stdio(s, payload):
    """A Request, with our stdio attached as an older front sent it (the server must refuse that too)."""
    fds = array.array("i", [0, 1, 2])
    s.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])


def first_reply(s):
    s.settimeout(5)
    try:
        data = s.recv(65536)
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error " + e.strerror
    if not data:
        return "closed"
    op = struct.unpack("<I", data[:4])[0]
    return OPS.get(op, "op%d" % op)


def impostor(log, path, names):
    listeners = []
    if path != "-":
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.bind(path)
        s.listen(16)
        listeners.append(s)
    for name in names:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.bind("\0" + name)
        s.listen(16)
        listeners.append(s)
    with open(log, "a") as out:
        out.write("listening\n")
        out.flush()
        import select
        while True:
            ready, _, _ = select.select(listeners, [], [])
            for l in ready:
                conn, _ = l.accept()
                conn.settimeout(2)
                try:
                    data, anc, _, _ = conn.recvmsg(1 << 20, socket.CMSG_SPACE(64 * 4))
                except socket.timeout:
                    data, anc = b"", []
                nfds = sum((len(d) // 4) for lvl, typ, d in anc if typ == socket.SCM_RIGHTS)
                out.write("connection: %d bytes, %d fds\n" % (len(data), nfds))
                out.flush()
                conn.close()


def silent(path, n, seconds):
    conns = [connect(path) for _ in range(n)]
    print("holding", len(conns), flush=True)
    time.sleep(seconds)


def take_pid(target):
    """A child of ours (sleeping, full root) with pid `target`, via ns_last_pid; None if the
    host's other processes kept taking it."""
    for _ in range(200):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(target - 1))
        child = os.fork()
        if child == 0:
            time.sleep(30)
            os._exit(0)
        if child == target:
            return child
        os.kill(child, 9)
        os.waitpid(child, 0)
    return None


def reuse(path, argv):
    r, w = os.pipe()
    out_r, out_w = os.pipe()
    connector = os.fork()
    if connector == 0:
        s = connect(path)  # the server's SO_PEERPIDFD names this process
        if os.fork() == 0:
            # The sender: a restricted process (no_new_privs, a context the server refuses)
            # that sends once a full-root process holds the connector's pid.
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)
            os.close(w)
            os.read(r, 1)
            s.send(request(1, argv))
            os.write(out_w, first_reply(s).encode())
            os._exit(0)
        os._exit(0)
    os.waitpid(connector, 0)  # the connector is gone, its pid free
    holder = take_pid(connector)
    if holder is None:
        print("pid not taken", flush=True)
        sys.exit(3)
    os.write(w, b"x")
    os.close(out_w)
    reply = os.read(out_r, 100).decode() or "no reply"
    os.kill(holder, 9)
    os.waitpid(holder, 0)
    print("pid %d reused; %s" % (connector, reply), flush=True)


def go(s, argv, proof):
    """Request, Begin, Go with our stdio and `proof`; returns the answer to Go (or why not)."""
    s.send(request(1, argv))
    first = first_reply(s)
    if first != "begin":
        return "no begin: " + first
    fds = [0, 1, 2]
    if proof == "devnull":
        fds.append(os.open("/dev/null", os.O_RDONLY))
    elif proof.startswith("ns:"):
        try:
            fds.append(os.open("/proc/%s/ns/mnt" % proof[3:], os.O_RDONLY))
        except OSError as e:
            return "proof refused: " + e.strerror
    s.sendmsg([struct.pack("<Ii", 7, 0)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    return first_reply(s)


def drop_everything():
    """No capabilities left in any set, and no_new_privs: a root process with no authority."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP
    header = struct.pack("<Ii", 0x20080522, 0)
    data = bytes(24)  # two {effective, permitted, inheritable} u32 triples, all zero
    assert libc.syscall(126, header, data) == 0, ctypes.get_errno()  # capset
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS


def handoff(path, server_pid, argv):
    s = connect(path)  # admitted as this full-root process, which stays alive
    child = os.fork()
    if child == 0:
        drop_everything()
        print(go(s, argv, "ns:" + server_pid), flush=True)
        os._exit(0)
    os.waitpid(child, 0)


def landlocked(argv):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    handled = (1 << 13) - 1  # every filesystem access right of Landlock ABI 1..2
    ruleset = libc.syscall(444, struct.pack("<Q", handled), 8, 0)
    assert ruleset >= 0, ctypes.get_errno()
    for path, access in (("/", 1 | 4 | 8), ("/dev", handled)):
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        assert libc.syscall(445, ruleset, 1, struct.pack("<Qi", access, fd), 0) == 0, ctypes.get_errno()
    assert libc.syscall(446, ruleset, 0) == 0, ctypes.get_errno()
    os.execvp(argv[0], argv)


def filtered(argv):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    allow = struct.pack("<HBBI", 0x06, 0, 0, 0x7FFF0000)  # BPF_RET|BPF_K SECCOMP_RET_ALLOW
    prog_buf = ctypes.create_string_buffer(allow)
    prog = struct.pack("<HxxxxxxQ", 1, ctypes.addressof(prog_buf))
    assert libc.prctl(22, 2, prog, 0, 0) == 0, ctypes.get_errno()  # PR_SET_SECCOMP, FILTER
    os.execvp(argv[0], argv)


def main():
    cmd = sys.argv[1]
    if cmd == "impostor":
        impostor(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "fill":
        conns = []
        while True:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_NONBLOCK)
            try:
                c.connect(sys.argv[2])
            except BlockingIOError:
                break
            conns.append(c)
        print("full", len(conns), flush=True)
        time.sleep(float(sys.argv[3]))
    elif cmd == "silent":
        silent(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "request":
        s = connect(sys.argv[2])
        s.send(request(int(sys.argv[3]), sys.argv[4:]))
        print(first_reply(s), flush=True)
    elif cmd == "go":
        print(go(connect(sys.argv[2]), sys.argv[4:], sys.argv[3]), flush=True)
    elif cmd == "handoff":
        handoff(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "landlocked":
        landlocked(sys.argv[2:])
    elif cmd == "filtered":
        filtered(sys.argv[2:])
    elif cmd == "capless-bind":
        drop_everything()
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.bind(sys.argv[2])
            print("bound", flush=True)
        except OSError as e:
            print(e.strerror, flush=True)
    elif cmd == "epipe":
        import subprocess
        r, w = os.pipe()
        os.close(r)
        p = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=w)
        print(p.returncode, flush=True)
    elif cmd == "reuse":
        reuse(sys.argv[2], sys.argv[3:])
    elif cmd == "request-fds":
        s = connect(sys.argv[2])
        send_with_stdio(s, request(1, sys.argv[3:]))
        print(first_reply(s), flush=True)
    elif cmd == "status-first":
        s = connect(sys.argv[2])
        s.send(struct.pack("<Ii", 8, 0))
        print(first_reply(s), flush=True)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
