"""What pty-driver.py and console-receiver.py share (imported from their directory): reading a
pty master into one buffer, and matching each "expect" step against what came since the last
match."""
import os, re, select, time


class PtyReader:
    def __init__(self, fd):
        self.fd = fd
        self.out = bytearray()
        self.seen = 0
        self.eof = False

    def pump(self, deadline):
        """Reads one chunk if one comes before `deadline`; EOF (or EIO: the other side is gone) sets eof."""
        left = deadline - time.monotonic()
        if left <= 0 or self.eof:
            return
        r, _, _ = select.select([self.fd], [], [], left)
        if not r:
            return
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.out.extend(chunk)

    def expect(self, regex, deadline):
        """Reads until `regex` matches output not matched before; False at EOF or the deadline."""
        pattern = re.compile(regex.encode())
        while True:
            m = pattern.search(self.out, self.seen)
            if m:
                self.seen = m.end()
                return True
            if self.eof or time.monotonic() >= deadline:
                return False
            self.pump(deadline)

    def drain(self, deadline):
        """Reads until EOF; False if the deadline comes first."""
        while not self.eof:
            if time.monotonic() >= deadline:
                return False
            self.pump(deadline)
        return True

    def text(self):
        return self.out.decode(errors="replace")
