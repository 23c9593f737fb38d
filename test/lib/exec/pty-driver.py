#!/usr/bin/env python3
"""Drives a command on a real pty, like a person at a terminal, for bunrunc's terminal tests.

usage: pty-driver.py STEPS_JSON COMMAND [ARGS...]
STEPS_JSON is a list of steps run in order:
  {"send": "text"}                 write to the terminal (\\r for Enter, \\x04 for Ctrl-D)
  {"expect": "regex", "timeout": s} read until the regex matches output not matched before
  {"resize": [rows, cols]}         TIOCSWINSZ on the terminal (the command gets SIGWINCH)
  {"signal": N}                    kill(command, N)
Then it reads to EOF and reaps the command. Prints one JSON object:
  {"ok": bool, "failed": step index or null, "code": exit status or 128+signal, "output": text}
"""
import fcntl, json, os, pty, re, select, signal, struct, sys, termios, time

ROWS, COLS = 24, 80


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    steps = json.loads(sys.argv[1])
    cmd = sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    set_size(fd, ROWS, COLS)
    out = bytearray()
    seen = 0
    eof = False

    def pump(deadline):
        nonlocal eof
        while not eof:
            left = deadline - time.monotonic()
            if left <= 0:
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
                return
            out.extend(chunk)
            return

    failed = None
    for i, step in enumerate(steps):
        if "send" in step:
            os.write(fd, step["send"].encode())
        elif "resize" in step:
            set_size(fd, *step["resize"])
        elif "signal" in step:
            os.kill(pid, step["signal"])
        elif "expect" in step:
            pattern = re.compile(step["expect"].encode())
            deadline = time.monotonic() + step.get("timeout", 10)
            while True:
                m = pattern.search(out, seen)
                if m:
                    seen = m.end()
                    break
                if eof or time.monotonic() >= deadline:
                    failed = i
                    break
                pump(deadline)
            if failed is not None:
                break
        elif "sleep" in step:
            time.sleep(step["sleep"])
    if failed is not None:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while not eof and time.monotonic() < deadline:
        pump(deadline)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        code = 128 - code
    print(json.dumps({"ok": failed is None, "failed": failed, "code": code, "output": out.decode(errors="replace")}))


main()
