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
import fcntl, json, os, pty, signal, struct, sys, termios, time

sys.dont_write_bytecode = True  # no __pycache__ left in the tree
from ptyio import PtyReader  # noqa: E402 (beside this file)

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
    reader = PtyReader(fd)

    failed = None
    for i, step in enumerate(steps):
        if "send" in step:
            os.write(fd, step["send"].encode())
        elif "resize" in step:
            set_size(fd, *step["resize"])
        elif "signal" in step:
            os.kill(pid, step["signal"])
        elif "expect" in step:
            if not reader.expect(step["expect"], time.monotonic() + step.get("timeout", 10)):
                failed = i
                break
        elif "sleep" in step:
            time.sleep(step["sleep"])
    if failed is not None:
        os.kill(pid, signal.SIGKILL)
    reader.drain(time.monotonic() + 15)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        code = 128 - code
    print(json.dumps({"ok": failed is None, "failed": failed, "code": code, "output": reader.text()}))


main()
