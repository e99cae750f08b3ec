"""The screen model's repaint on a real terminal (src/screen/, issue 11).

A scripted byte stream (vim-like: colours of every kind, wide and combining
characters, the alternate screen, a scroll region, the cursor in the middle,
a title, the modes vim and less set) is shown by one tmux pane; the model
(podterm-screen, beside PODTERM_BIN) is fed the same bytes and its repaint is
shown by a second, fresh pane of the same size. `tmux capture-pane -p -e`
(text with attributes) of both must be equal, and so must what tmux says of
the cursor, the title and the modes. tmux runs on a socket of its own and
is stopped by the test.
"""
import os
import shutil
import subprocess
import time

import pytest

W, H = 80, 24
FIELDS = ("cursor_x cursor_y cursor_flag alternate_on pane_title keypad_cursor_flag "
          "keypad_flag mouse_standard_flag mouse_button_flag mouse_any_flag mouse_sgr_flag "
          "mouse_utf8_flag wrap_flag insert_flag origin_flag scroll_region_upper "
          "scroll_region_lower").split()

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def _tool():
    bin_ = os.environ.get("PODTERM_BIN", "build-asan/podterm")
    return os.path.join(os.path.dirname(os.path.abspath(bin_)), "podterm-screen")


def _vim_like():
    """What a shell then vim would leave: a prompt on the primary screen,
    then the alternate screen with a coloured buffer, a status line, a
    scroll region, a title, and the cursor in the middle of a word."""
    e = "\x1b"
    out = [f"{e}]0;shell{e}\\", "$ ls --color\r\n",
           f"{e}[1;34mdir{e}[0m  {e}[32mscript.sh{e}[0m  notes.txt\r\n", "$ vim notes.txt\r\n",
           f"{e}]2;notes.txt - VIM\x07", f"{e}[?1049h{e}[22;0;0t{e}[?1h{e}={e}[?2004h",
           f"{e}[?1002h{e}[?1006h{e}[H{e}[2J"]
    lines = [
        f"{e}[33m  1 {e}[0m{e}[1m# Notes{e}[0m",
        f"{e}[33m  2 {e}[0mcolours: {e}[31mred{e}[0m {e}[91mbright{e}[0m {e}[38;5;208morange{e}[0m "
        f"{e}[38;2;10;200;30mrgb{e}[0m {e}[48;5;236;37mbg{e}[0m {e}[48;2;40;0;80mrgb-bg{e}[0m",
        f"{e}[33m  3 {e}[0m{e}[3mitalic{e}[23m {e}[4munder{e}[24m {e}[7mreverse{e}[27m "
        f"{e}[9mstrike{e}[29m {e}[5mblink{e}[25m {e}[1;4;38;5;196mall{e}[0m",
        f"{e}[33m  4 {e}[0mwide: \u65e5\u672c\u8a9e \u4e2d\u6587 combining: e\u0301 a\u0308\u0323",
        f"{e}[33m  5 {e}[0m{e}[44m{e}[K{e}[0m",
    ]
    for i, line in enumerate(lines):
        out.append(f"{e}[{i + 1};1H{line}")
    for row in range(len(lines) + 1, H - 1):
        out.append(f"{e}[{row};1H{e}[34m~{e}[0m")
    out.append(f"{e}[{H - 1};1H{e}[7mnotes.txt [+]{' ' * 50}4,9  All{e}[0m")
    out.append(f"{e}[{H};1H{e}[1m-- INSERT --{e}[0m")
    # a scroll region scrolled once (line 5 goes), a region left set, then
    # the cursor back in a word of line 4
    out.append(f"{e}[5;20r{e}[20;1H\r\n{e}[20;1H")
    out.append(f"{e}[33m  6 {e}[0mscrolled in")
    out.append(f"{e}[3;21r{e}[4;9H")
    return "".join(out).encode()


def _shell():
    return "\x1b[1;31mroot\x1b[0m@pod:~# \x1b[?2004htop\x1b[5D".encode()


class Tmux:
    def __init__(self, tmp_path):
        self.sock = str(tmp_path / "tmux.sock")
        conf = tmp_path / "tmux.conf"
        conf.write_text("set -g status off\nset -g default-terminal tmux-256color\n")
        self.conf = str(conf)

    def run(self, *args, check=True):
        return subprocess.run(["tmux", "-S", self.sock, "-f", self.conf, *args], check=check,
                              capture_output=True, text=True, timeout=30)

    def show(self, name, path):
        # cat, then the size check (a pane that is not 80x24 would differ anyway)
        self.run("new-session", "-d", "-s", name, "-x", str(W), "-y", str(H),
                 f"cat {path}; printf '' ; sleep 60")

    def capture(self, name):
        return self.run("capture-pane", "-p", "-e", "-t", name).stdout

    def facts(self, name):
        fmt = "|".join("#{%s}" % f for f in FIELDS)
        return dict(zip(FIELDS, self.run("display-message", "-p", "-t", name, fmt).stdout
                        .rstrip("\n").split("|")))

    def stop(self):
        self.run("kill-server", check=False)


def _settled(tmux, name, marker, timeout=20.0):
    """The pane's capture once it shows marker and stops changing."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        now = tmux.capture(name)
        if marker in now and now == last:
            return now
        last = now
        time.sleep(0.2)
    raise AssertionError(f"pane {name} never showed {marker!r}:\n{last}")


@pytest.mark.parametrize("stream,marker,chunk", [
    (_vim_like, "INSERT", 4096), (_vim_like, "INSERT", 7), (_shell, "root", 4096)])
def test_repaint_in_tmux(tmp_path, stream, marker, chunk):
    tool = _tool()
    assert os.access(tool, os.X_OK), f"{tool} missing: build podterm-screen"
    data = stream()
    original = tmp_path / "original.bin"
    original.write_bytes(data)
    repaint = subprocess.run([tool, str(W), str(H), str(chunk)], input=data,
                             capture_output=True, check=True, timeout=30).stdout
    assert repaint.startswith(b"\x1b[!p") and b"\x1bc" not in repaint
    painted = tmp_path / "repaint.bin"
    painted.write_bytes(repaint)
    tmux = Tmux(tmp_path)
    try:
        tmux.show("original", original)
        tmux.show("repaint", painted)
        a = _settled(tmux, "original", marker)
        b = _settled(tmux, "repaint", marker)
        assert b == a
        fa, fb = tmux.facts("original"), tmux.facts("repaint")
        assert fb == fa
    finally:
        tmux.stop()


def test_vim_like_facts(tmp_path):
    """The comparison above is not vacuous: the original pane really is in
    the alternate screen with the modes set, the title given, the cursor in
    the middle of line 4, colours and attributes in the capture."""
    data = _vim_like()
    original = tmp_path / "original.bin"
    original.write_bytes(data)
    tmux = Tmux(tmp_path)
    try:
        tmux.show("original", original)
        cap = _settled(tmux, "original", "INSERT")
        facts = tmux.facts("original")
    finally:
        tmux.stop()
    assert facts["alternate_on"] == "1"
    assert facts["pane_title"] == "notes.txt - VIM"
    assert (facts["cursor_x"], facts["cursor_y"]) == ("8", "3")
    assert facts["keypad_cursor_flag"] == "1" and facts["mouse_sgr_flag"] == "1"
    assert facts["mouse_button_flag"] == "1"
    assert "\x1b[38;2;10;200;30mrgb" in cap
    assert "\u65e5\u672c\u8a9e" in cap and "scrolled in" in cap
    assert (facts["scroll_region_upper"], facts["scroll_region_lower"]) == ("2", "20")
