"""node_echo_pty.py - the baseline of bench/node_echo.mjs: the same Node client
against a PTY it holds itself, no server in between (Node cannot open one on
its own). Opens a PTY, runs CMD on its slave (as podterm does: a new session,
the slave as fds 0-2), then `node bench/node_echo.mjs pty FD SAMPLES` with the
master as FD, and exits with node's status.

    /usr/bin/python3 bench/node_echo_pty.py SAMPLES -- CMD..."""
import os
import subprocess
import sys


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    samples, cmd = sys.argv[1], sys.argv[3:]
    master, slave = os.openpty()
    child = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rc = subprocess.call(["node", os.path.join(here, "node_echo.mjs"), "pty", str(master),
                              samples], pass_fds=(master,))
    finally:
        child.kill()
        child.wait()
        os.close(master)
    return rc


if __name__ == "__main__":
    sys.exit(main())
