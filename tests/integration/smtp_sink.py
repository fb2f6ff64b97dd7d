#!/usr/bin/python3
"""An SMTP server for tests: stores every accepted message as one file in a folder.

Run with Debian's interpreter (it sees python3-aiosmtpd):

    /usr/bin/python3 smtp_sink.py --port PORT --dir DIR

Each message becomes DIR/NNNNNNNN.eml (a counter, so names sort in arrival order), written to
DIR/.tmp first and renamed, so a reader never sees half a file. The SMTP envelope is kept in two
headers put in front of the message: X-Sink-Envelope-From and X-Sink-Envelope-To (comma
separated).

While the file DIR/.fail exists, DATA is answered "451 4.3.0" (a temporary failure), which lets a
test check that the sender keeps the mail and retries. SIGTERM or SIGINT stops the server.
"""

import argparse
import itertools
import os
import signal
import threading

from aiosmtpd.controller import Controller


class FolderHandler:
    """aiosmtpd handler writing each message to a file; thread-safe counter."""

    def __init__(self, folder):
        self.folder = folder
        self.tmp = os.path.join(folder, ".tmp")
        os.makedirs(self.tmp, exist_ok=True)
        existing = [n for n in os.listdir(folder) if n.endswith(".eml")]
        self.counter = itertools.count(len(existing) + 1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.folder, ".fail")):
            return "451 4.3.0 Sink told to fail (test)"
        head = ("X-Sink-Envelope-From: %s\r\nX-Sink-Envelope-To: %s\r\n"
                % (envelope.mail_from, ", ".join(envelope.rcpt_tos))).encode("utf-8")
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        with self.lock:
            name = "%08d.eml" % next(self.counter)
        tmp_path = os.path.join(self.tmp, name)
        with open(tmp_path, "wb") as f:
            f.write(head + content)
        os.rename(tmp_path, os.path.join(self.folder, name))
        return "250 2.0.0 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    controller = Controller(FolderHandler(args.dir), hostname=args.host, port=args.port,
                            enable_SMTPUTF8=True, decode_data=False,
                            data_size_limit=10 * 1024 * 1024)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller.start()
    print("smtp sink listening on %s:%d, storing in %s" % (args.host, args.port, args.dir),
          flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
