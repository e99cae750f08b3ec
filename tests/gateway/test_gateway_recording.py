"""Recording in gateway mode (issue 11): session.c is shared, so a session
relayed to the cluster is recorded as in local mode. kubectl exec -it through
a gateway started with --recording-dir, in a tmux pane: the file appears
(0600, the contract's header, the resize, the exit marker), the audit names
it, and `asciinema play` in a pane of the session's size ends on the same
screen."""
import json
import os
import shlex
import stat
import time

from kube_tools import Tmux, kbin
from podterm_client import exec_path, ws_exec
from test_recording import wait_for

from conftest import UPSTREAM_TOKEN, kubeconfig

KUBECTL = "1.33"
SCRIPT = r"""
printf '\033[1;32mgateway\033[0m \033[45mrecorded\033[0m\n'
# kubectl sends the terminal's size once the stream is up, so the process
# may start at the PTY's 24x80: wait for 90 columns before saying so.
while [ "$(stty size)" != "24 90" ]; do sleep 0.05; done
printf 'READY-%s\n' "$(stty size)"
while [ "$(stty size)" = "24 90" ]; do sleep 0.05; done
printf '\033[2J\033[H\033[4mafter resize\033[0m %s\n' "$(stty size)"
touch "$1/drawn"
while [ ! -e "$1/go-exit" ]; do sleep 0.05; done
exit 4
"""


def cast_events(path):
    lines = path.read_text().split("\n")
    if lines[-1] != "" or len(lines) < 3:
        return None
    events = [json.loads(line) for line in lines[1:-1]]
    return events if events[-1][1:] == ["m", "exit 4: exit"] else None


def test_gateway_session_recorded_and_replays(pki, upstream, podterm, tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()
    kc = kubeconfig(pki, "gw-rec.kubeconfig", upstream.url.rstrip("/"), ca=f"{pki}/ca.crt",
                    token=UPSTREAM_TOKEN)
    gw = podterm(["--kubeconfig", kc, "--recording-dir", str(rec), "--audit-log-path",
                  str(tmp_path / "audit.log")], name="gw-recording")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_")}
    env.update(HOME=str(home), KUBECONFIG=kubeconfig(str(home), "config", gw.url.rstrip("/")))
    sync = tmp_path / "sync"
    sync.mkdir()
    script = tmp_path / "script.sh"
    script.write_text(SCRIPT)
    argv = ["sh", str(script), str(sync)]
    cmd = f"{kbin(KUBECTL)} exec -it local -- {shlex.join(argv)}; echo KUBECTL-EXIT=$?; sleep 600"
    tm = Tmux(str(tmp_path), env, cmd, width=90, height=24)
    try:
        tm.wait_for("READY-24 90")
        tm.run("resize-window", "-t", "t", "-x", "110", "-y", "28")
        wait_for(lambda: (sync / "drawn").exists(), "the screen drawn after the resize")
        time.sleep(0.5)
        session_screen = (tm.run("capture-pane", "-p", "-t", "t"),
                          tm.run("capture-pane", "-p", "-e", "-t", "t"))
        assert "after resize 28 110" in session_screen[0], session_screen[0]
        (sync / "go-exit").touch()
        tm.wait_for("KUBECTL-EXIT=4")
    finally:
        tm.kill()

    [path] = [p for p in rec.iterdir()]
    assert path.name.endswith(".cast")
    audit_id = path.name[:-len(".cast")]
    events = wait_for(lambda: cast_events(path), "the recording's exit marker")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    header = json.loads(path.read_text().split("\n")[0], object_pairs_hook=list)
    h = dict(header)
    assert h["version"] == 2, header
    assert h["command"] == shlex.join(argv) and h["title"] == "default/local/shell"
    assert dict(h["podterm"]) == {"id": audit_id, "user": "system:anonymous", "kind": "exec",
                                  "namespace": "default", "pod": "local", "container": "shell",
                                  "command": argv, "tty": True, "stdin": True}, header
    # The upstream process runs from before the 101 (the gateway opened it),
    # so its first output may come before kubectl's first size: then the
    # header says 80x24 (the contract) and that size follows as an "r".
    sizes = [f"{h['width']}x{h['height']}"] + [ev[2] for ev in events if ev[1] == "r"]
    if sizes[:2] == ["80x24", "90x24"]:
        sizes = sizes[1:]
    assert sizes == ["90x24", "110x28"], (header, events)
    assert "i" not in [ev[1] for ev in events]

    def annotation():
        with open(tmp_path / "audit.log") as f:
            for line in f:
                ev = json.loads(line)
                if ev["auditID"] == audit_id and ev["stage"] == "ResponseComplete":
                    return ev["annotations"]
        return None
    assert wait_for(annotation, "ResponseComplete")["podterm.dev/recording"] == path.name

    done = tmp_path / "replayed"
    play = f"asciinema play -s 100 {shlex.quote(str(path))}; touch {shlex.quote(str(done))}; sleep 600"
    player = Tmux(str(tmp_path), dict(os.environ), play, width=110, height=28)
    try:
        wait_for(done.exists, "asciinema play to finish", 60)
        replay_screen = (player.run("capture-pane", "-p", "-t", "t"),
                         player.run("capture-pane", "-p", "-e", "-t", "t"))
    finally:
        player.kill()
    assert replay_screen == session_screen, (session_screen, replay_screen)

    # non-tty through the gateway: not recorded without --recording-all
    _, t = ws_exec(gw.port, exec_path(["echo", "plain"]))
    assert t.data(1) == b"plain\n"
    assert len(list(rec.iterdir())) == 1
