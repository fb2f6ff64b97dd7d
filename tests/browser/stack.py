#!/usr/bin/python3
"""Starts the whole portal for the browser tests and keeps it up until told to stop.

    NM_PREFIX=STAGE /usr/bin/python3 tests/browser/stack.py [--work DIR] [--keep]

Starts, with tests/integration/harness.py: a private memcached, sample media and a feed made by
scripts/make-sample-media.sh, and an Apache loading mod_natomedia with all four plugins, SQLite,
and the file:// mail transport (messages land in MAIL_DIR/new/). When it is up it prints ONE
line of JSON on stdout and flushes it:

    {"base_url": "http://127.0.0.1:PORT", "mail_dir": "...", "feed": "...", "media_root": "...",
     "work_dir": "...", "error_log": "...", "access_log": "..."}

(or {"error": "..."} and exit status 1 when something failed to start). It then waits; when its
standard input closes (the test runner exited or died) or on SIGTERM/SIGINT/SIGHUP it stops
httpd and memcached by their PIDs and deletes the work dir, unless --keep, NM_KEEP_WORK=1 or
a line "keep" read on stdin before it closed (the runner writes it when a test failed).
Log lines go to stderr only, so stdout stays one line for the runner to parse.
NM_STACK_BASE_PATH=/portal serves the portal under that NatoMediaBasePath (base_url includes it).
NM_STACK_DIRECTIVES="NatoMediaDownloadQuota 1" adds server-config lines (newline-separated).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("NM_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
import harness  # noqa: E402


def log(msg):
    sys.stderr.write("stack: %s\n" % msg)
    sys.stderr.flush()


def make_media(work_dir):
    """Runs scripts/make-sample-media.sh into work_dir/media; returns (feed path, media root)."""
    media = harness.make_dir(os.path.join(work_dir, "media"))
    script = os.path.join(SOURCE_DIR, "scripts", "make-sample-media.sh")
    res = subprocess.run(["sh", script, media], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        raise harness.HarnessError("make-sample-media.sh failed (%d):\n%s%s"
                                   % (res.returncode, res.stdout, res.stderr))
    # httpd's children (www-data) read the media and the feed.
    for root, dirs, files in os.walk(media):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    return os.path.join(media, "sample-feed.xml"), media


class Stack:
    def __init__(self, prefix, work_dir):
        self.prefix = prefix
        self.work_dir = work_dir
        self.memcached = None
        self.apache = None
        self._stopped = threading.Lock()

    def start(self):
        feed, media_root = make_media(self.work_dir)
        base_path = os.environ.get("NM_STACK_BASE_PATH") or None
        directives = os.environ.get("NM_STACK_DIRECTIVES") or ""
        self.memcached = harness.Memcached(work_dir=self.work_dir).start()
        self.apache = harness.Apache(self.prefix, os.path.join(self.work_dir, "apache"),
                                     memcached=self.memcached, feed=feed,
                                     media_root=media_root, plugins=harness.ALL_PLUGINS,
                                     base_path=base_path, directives=directives)
        rc, out = self.apache.configtest()
        if rc != 0:
            raise harness.HarnessError("configtest failed:\n%s" % out)
        self.apache.start()
        return {
            "base_url": self.apache.url(base_path or ""),
            "mail_dir": self.apache.mail_dir,
            "feed": feed,
            "media_root": media_root,
            "work_dir": self.work_dir,
            "error_log": self.apache.error_log_path,
            "access_log": self.apache.access_log_path,
        }

    def stop(self):
        """Stops httpd then memcached; safe to call twice and from two threads."""
        if not self._stopped.acquire(blocking=False):
            return
        if self.apache is not None:
            self.apache.stop()
        if self.memcached is not None:
            self.memcached.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default=os.environ.get("NM_PREFIX"),
                        help="install prefix of mod_natomedia (default: $NM_PREFIX)")
    parser.add_argument("--work", help="work dir (default: a fresh dir under $NM_TEST_WORK "
                                       "or /tmp)")
    parser.add_argument("--keep", action="store_true", default=os.environ.get("NM_KEEP_WORK")
                        == "1", help="keep the work dir (logs, database, mail) after stopping")
    args = parser.parse_args()

    def fail(msg):
        print(json.dumps({"error": msg}), flush=True)
        return 1

    if not args.prefix or not os.path.exists(
            os.path.join(args.prefix, "lib/apache2/modules/mod_natomedia.so")):
        return fail("no mod_natomedia.so under NM_PREFIX=%r (stage an install first)"
                    % args.prefix)
    work_dir = (harness.make_dir(os.path.abspath(args.work)) if args.work
                else harness.make_work_dir("browser"))
    stack = Stack(os.path.abspath(args.prefix), work_dir)
    done = threading.Event()

    def on_signal(*_):
        done.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    def watch_stdin():
        # Returns when the runner closes our stdin (or exits, which closes it too). A line
        # "keep" first (the runner saw a failure) keeps the work dir for its logs.
        try:
            for line in sys.stdin:
                if line.strip() == "keep":
                    args.keep = True
        except (OSError, ValueError):
            pass
        done.set()

    ok = False
    try:
        try:
            info = stack.start()
        except (harness.HarnessError, subprocess.SubprocessError, OSError) as e:
            return fail(str(e))
        print(json.dumps(info), flush=True)
        log("up at %s (work dir %s)" % (info["base_url"], work_dir))
        threading.Thread(target=watch_stdin, daemon=True).start()
        while not done.wait(0.5):
            if not stack.apache.running():
                log("httpd died; tail of %s:\n%s" % (stack.apache.error_log_path,
                                                       harness.tail(stack.apache.error_log_path)))
                return 1
        ok = True
        return 0
    finally:
        stack.stop()
        if ok and not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
            log("stopped; work dir removed")
        else:
            log("stopped; work dir kept: %s" % work_dir)


if __name__ == "__main__":
    sys.exit(main())
