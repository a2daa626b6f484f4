"""Shared plumbing for the e2e python clients: JSON-line events out, "stop" commands in.

Each script is run as `/usr/bin/python3 <script> <command> '<json parameters>'`. It prints one JSON
object per line on stdout (each with an "event" field) and stops when a line "stop" arrives on
stdin or stdin closes, so a crashed test never leaves a client behind.
"""
import json
import os
import sys
import threading
import time

_print_lock = threading.Lock()
stop_requested = threading.Event()


def emit(event, **fields):
    fields["event"] = event
    line = json.dumps(fields, separators=(",", ":"))
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _watch_stdin():
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stop_requested.set()


def start_stdin_watcher():
    threading.Thread(target=_watch_stdin, daemon=True).start()


def parse_arguments():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: <script> <command> '<json parameters>'\n")
        sys.exit(2)
    return sys.argv[1], json.loads(sys.argv[2])


def deadline_after(seconds):
    return time.monotonic() + seconds


def run(commands):
    command, parameters = parse_arguments()
    handler = commands.get(command)
    if handler is None:
        sys.stderr.write("unknown command %s\n" % command)
        sys.exit(2)
    start_stdin_watcher()
    try:
        handler(parameters)
    except Exception as error:  # report, then fail the process
        emit("fatal", message="%s: %s" % (type(error).__name__, error))
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)
