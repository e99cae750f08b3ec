"""Watch and join in gateway mode (issue 11): the session is the gateway's
(its upstream exec on the cluster), and .../sessions/{id}/watch and /join
are answered by the gateway itself, as in local mode: the repaint of the
screen the owner has, live output byte for byte, a joiner's keys reaching
the process upstream, the end's Status and Close."""
from podterm_client import OP_BINARY, V5, assert_clean_end
from test_watch import SUCCESS, model_repaint, open_owner, open_watcher, session_item, sid_of


def test_watch_and_join_through_the_gateway(gateway):
    owner = open_owner(gateway.port)
    sid = sid_of(owner)
    owner.ws.send_channel(0, b"printf '\\033[1mBOLD\\033[0m '; echo GW-$((20+22))\n")
    owner.until_out(b"GW-42\r\n$ ")
    seen = owner.out
    watcher = open_watcher(gateway.port, sid, "watch")
    joiner = open_watcher(gateway.port, sid, "join", kind=V5)
    repaint = model_repaint(seen)
    watcher.until(lambda p: len(p.out) >= len(repaint), what="the repaint")
    assert watcher.msgs[:2] == [(1, b""), (7, b'{"type":"size","width":80,"height":24}')]
    assert watcher.out == repaint
    joiner.until(lambda p: len(p.out) >= len(repaint), what="the repaint")
    assert joiner.out == repaint
    assert session_item(gateway.port, sid)["status"]["watchers"] == 2
    # the joiner types; the process (upstream) runs it; everyone sees the same bytes
    before = [len(p.out) for p in (owner, watcher, joiner)]
    joiner.ws.send_channel(0, b"echo JOINED-$((3*3))\n")
    owner.until_out(b"JOINED-9\r\n$ ")
    live = owner.out[before[0]:]
    for p, b in zip((watcher, joiner), before[1:]):
        p.until(lambda p: len(p.out) - b >= len(live), what="the live bytes")
        assert p.out[b:] == live
    owner.ws.send_channel(0, b"exit\n")
    for p in (watcher, joiner):
        t = p.ws.collect(20)
        assert_clean_end(t)
        assert t.messages[-1] == (OP_BINARY, b"\x03" + SUCCESS)
