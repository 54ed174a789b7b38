"""End to end: `rasp` under a pseudo-terminal, typed at like a person would.

The test plays the terminal: it answers prompt_toolkit's cursor-position requests,
sends keys, and reads the screen (with the ANSI control sequences removed).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


def _controlling_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty (so Ctrl-C is SIGINT).

    SIGINT is reset to its default: a test run started in the background (`cmd &` in a
    script, nohup) inherits it ignored, and Python then installs no KeyboardInterrupt.
    """
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    def __init__(self, tmp_path):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
        env = dict(os.environ, NO_COLOR="1", TERM="xterm", RASP_HISTORY=str(tmp_path / "history"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rasp"], stdin=slave, stdout=slave, stderr=slave,
            cwd=tmp_path, env=env, preexec_fn=_controlling_terminal,  # noqa: PLW1509 - only setsid + ioctl
        )
        os.close(slave)
        self.raw = b""

    def screen(self) -> str:
        return _ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def read(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:  # the process has ended
                return
            if b"\x1b[6n" in data:  # where is the cursor? (as a terminal would answer)
                os.write(self.master, b"\x1b[1;1R")
            self.raw += data

    def wait_for(self, text: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear; the screen:\n{self.screen()[-3000:]}")
            self.read(0.1)

    def type(self, keys: str) -> None:
        for key in keys:  # one key at a time, as typed
            os.write(self.master, key.encode())
            self.read(0.005)

    def exit_status(self, timeout: float = 15) -> int:
        """Wait for the process to end, reading what it writes meanwhile."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"rasp did not exit; the screen:\n{self.screen()[-2000:]}")
            self.read(0.1)
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path):
    term = Terminal(tmp_path)
    yield term
    term.close()


@pytest.mark.slow
def test_a_typed_session(terminal):
    terminal.wait_for("type help")

    terminal.type("x = indices * 3;\r")
    terminal.wait_for('x("hello") = [0, 3, 6, 9, 12]  ints')

    terminal.type("sel = select(tokens, tokens, ==);\r")
    terminal.wait_for("rows are queries")
    terminal.wait_for("  2 l · · 1 1 ·")

    terminal.type("y = x + nope;\r")
    terminal.wait_for("name error: `nope` is not defined")
    terminal.wait_for("    y = x + nope;\r\n            ^^^^")

    terminal.type("def f(a) {\r")
    terminal.type("return a + 1;\r")
    terminal.type("}\r")
    terminal.wait_for("f = function f(a)")
    terminal.type("f(x);\r")
    terminal.wait_for('f(x)("hello") = [1, 4, 7, 10, 13]  ints')  # named after the call

    # An evaluation that cannot finish by itself (2^100 calls); the statement before it
    # shows a value that is not in the typed text, so its appearance means the line runs.
    terminal.type("def g(n) { return 0 if n == 0 else g(n - 1) + g(n - 1); }\r")
    terminal.wait_for("g = function g(n)")
    terminal.type("started = 6 * 7; g(100);\r")
    terminal.wait_for("started = 42")
    terminal.type("\x03")  # Ctrl-C during the evaluation
    terminal.wait_for("interrupted: the statement was stopped")
    terminal.type("x;\r")
    terminal.wait_for('x("hello") = [0, 3, 6, 9, 12]  ints', timeout=15)

    terminal.type("exit\r")
    assert terminal.exit_status() == 0
    assert "Traceback" not in terminal.screen()


@pytest.mark.slow
def test_ctrl_d_leaves_and_history_is_kept(terminal, tmp_path):
    terminal.wait_for("type help")
    terminal.type("tokens;\r")
    terminal.wait_for('tokens("hello")')
    terminal.read(1.0)  # Ctrl-D typed ahead, before the next prompt starts, is the tty's own EOF
    terminal.type("\x04")
    assert terminal.exit_status() == 0
    assert "tokens;" in (tmp_path / "history").read_text()
