"""One feed per server (CONTRACT section 12): every child of httpd serves the same feed version.

Attacks on the promise "after the feed file changes, every child of a server serves the same
version within 2 seconds; a refused file leaves every child on the same last good version",
against a real httpd with three children of two workers each (event MPM):

- a change, then 2 s in which no request comes: 66 requests over fresh connections must all
  show the new version (a child that only looks at the feed when a request asks for it answers
  its first request from the version it had);
- a good version that only part of the server has served, then a refused file: every child
  must show that last good version, never an older one it had itself; the same after a
  graceful restart, whose new children never served the feed and whose parent refuses the file.

The version is read from the page: each version of the feed is one item whose headline says
"Feed version N". Requests reach every child: each batch holds the server's six workers at
once (see batch()), and an event-MPM child accepts only while it has an idle worker; a second
access log with the child's pid (%P) checks that every batch did reach all three children.
"""
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

import harness
from harness import IntegrationTest
from test_news import BASE_TIME, feed_xml, news_item, write_feed

CHILDREN, THREADS = 3, 2
WORKERS = CHILDREN * THREADS
BATCHES = 11  # 66 requests
ROUNDS = 3

SERVER_CONF = "\n".join([
    "ServerLimit %d" % CHILDREN, "StartServers %d" % CHILDREN, "ThreadsPerChild %d" % THREADS,
    "MaxRequestWorkers %d" % WORKERS, "MinSpareThreads %d" % THREADS,
    "MaxSpareThreads %d" % WORKERS, "KeepAlive Off"])

VERSION = re.compile(r"Feed version (\d+)")


def feed_version(n):
    return feed_xml([news_item("v%d" % n, BASE_TIME + 60 * n, "Feed version %d" % n)])


REFUSED = feed_xml([news_item("dup", BASE_TIME, "Feed version 999"),
                    news_item("dup", BASE_TIME + 60, "Feed version 998")])  # two items, one id


class OneFeedPerServerTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.feed_path = os.path.join(self.work_dir, "feed.xml")
        write_feed(self.feed_path, feed_version(1))
        self.pid_log = os.path.join(self.work_dir, "apache", "logs", "pids.log")
        conf = SERVER_CONF + '\nLogFormat "%%P %%r" pids\nCustomLog %s pids' % self.pid_log
        self.apache = self.make_apache(feed=self.feed_path, plugins=["media_gateway"],
                                       extra_conf=conf)
        self.stalls = 0

    # --- requests that reach every child -------------------------------------------------------

    def _pid_lines(self):
        try:
            with open(self.pid_log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def batch(self):
        """One /news/ request on each of WORKERS connections, every worker held at once.

        Each request announces a one-byte body it sends only when all are in: its worker renders
        the page, then waits for that byte (httpd reads a body nobody asked for before it ends
        the answer), so a child whose workers are all held accepts no more and the requests
        spread over every child. Returns [(status, versions on the page)] and how many
        children answered."""
        logged = len(self._pid_lines())
        socks = []
        try:
            for _ in range(WORKERS):
                s = socket.create_connection(("127.0.0.1", self.apache.port), timeout=15)
                socks.append(s)
                s.sendall(b"GET /news/ HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\n")
                time.sleep(0.03)  # taken by a worker, which now waits for the body
            for s in socks:
                s.sendall(b"x")
            answers = []
            stalled = 0
            for s in socks:
                raw = b""
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        raw += chunk
                except socket.timeout:
                    # Seen once in CI, right after a graceful restart with the parallel suites
                    # running: one held connection waited past 15 s. Not reproduced since (see
                    # report_stall()); the batch is short and not counted, but the stall is no
                    # longer silent: what every httpd process was doing goes to the error output
                    # and to stalls.log in the work dir, which is then kept.
                    stalled += 1
                    self.report_stall(s)
                    continue
                text = raw.decode("utf-8", "replace")
                m = re.match(r"HTTP/1\.\d (\d{3})", text)
                answers.append((int(m.group(1)) if m else 0,
                                sorted({int(v) for v in VERSION.findall(text)})))
        finally:
            for s in socks:
                s.close()
        harness.wait_until(lambda: len(self._pid_lines()) >= logged + WORKERS - stalled, 5.0)
        pids = {line.split(" ", 1)[0] for line in self._pid_lines()[logged:]}
        return answers, (len(pids) if not stalled else 0)

    def report_stall(self, sock):
        """What httpd's processes were doing while `sock` waited for its answer: each process's
        threads (state and kernel wait channel, from /proc), their stacks when gdb is there, and
        the connections on the server's port. Written to stalls.log in the work dir (kept) and to
        the error output. The error log's "server reached MaxRequestWorkers" (AH00484) or "within
        MinSpareThreads of MaxRequestWorkers" (AH10159) says nothing here: every batch holds all
        six workers at once, so one of them is logged in every run."""
        lines = ["stalled connection from local port %d to %d"
                 % (sock.getsockname()[1], self.apache.port)]
        parent = self.apache.pid
        for pid in ([parent] if parent else []) + (harness.children_of(parent) if parent else []):
            lines.append("process %d:" % pid)
            for task in sorted(glob.glob("/proc/%d/task/*" % pid)):
                try:
                    with open(task + "/stat") as f:
                        state = f.read().rsplit(")", 1)[1].split()[0]
                    with open(task + "/wchan") as f:
                        wchan = f.read().strip()
                    with open(task + "/comm") as f:
                        comm = f.read().strip()
                except OSError:
                    continue
                lines.append("  thread %s %s state %s wchan %s"
                             % (os.path.basename(task), comm, state, wchan))
            if shutil.which("gdb"):
                try:
                    r = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex",
                                        "thread apply all bt"], capture_output=True, text=True,
                                       timeout=60)
                    lines += ["  " + l for l in r.stdout.splitlines() if l.startswith(("#", "Thread"))]
                except (OSError, subprocess.SubprocessError) as e:
                    lines.append("  gdb: %s" % e)
        if shutil.which("ss"):
            r = subprocess.run(["ss", "-tanp", "sport = :%d or dport = :%d"
                                % (self.apache.port, self.apache.port)],
                               capture_output=True, text=True)
            lines += r.stdout.splitlines()
        text = "\n".join(lines) + "\n"
        with open(os.path.join(self.work_dir, "stalls.log"), "a") as f:
            f.write(text)
        sys.stderr.write(text)
        self.stalls += 1

    def _finish(self, failed):
        # A run with a stalled connection keeps its work dir (logs, stalls.log) for a look.
        super()._finish(failed or getattr(self, "stalls", 0) > 0)

    def assert_all_serve(self, version, label):
        """BATCHES batches that each reach every child, all answering `version`. A batch that
        reaches fewer (children still starting, or a worker slow to take its connection on a
        loaded machine) is judged too but not counted; BATCHES full ones must come within 60 s."""
        seen, full, short = [], 0, 0
        deadline = time.monotonic() + 60.0
        while full < BATCHES:
            self.assertLess(time.monotonic(), deadline,
                            "%s: only %d of %d batches reached all %d children (%d fewer)"
                            % (label, full, BATCHES, CHILDREN, short))
            answers, children = self.batch()
            seen += answers
            if children == CHILDREN:
                full += 1
            else:
                short += 1
        wrong = [a for a in seen if a != (200, [version])]
        self.assertEqual(wrong, [], "%s: %d of %d answers were not version %d: %s"
                         % (label, len(wrong), len(seen), version, wrong[:10]))

    def single_request_until(self, version, timeout=5.0):
        """Fresh connections one at a time until one shows `version` (not every child need)."""
        def shows():
            r = harness.Client(self.apache.url()).get("/news/")
            return r.status == 200 and VERSION.findall(r.body) == [str(version)]
        self.assertTrue(harness.wait_until(shows, timeout, 0.05),
                        "version %d never served" % version)

    # --- the attacks ----------------------------------------------------------------------------

    def test_every_child_serves_a_change_within_two_seconds_even_when_idle(self):
        self.assert_all_serve(1, "start")
        version = 1
        for _ in range(ROUNDS):
            version += 1
            write_feed(self.feed_path, feed_version(version))
            time.sleep(2.0)  # no request at all meanwhile
            self.assert_all_serve(version, "2 s after version %d" % version)

    def test_a_refused_file_leaves_every_child_on_the_last_good_version(self):
        self.assert_all_serve(1, "start")
        version = 1
        for _ in range(ROUNDS):
            version += 1
            # A good version that perhaps only one child has served yet ...
            write_feed(self.feed_path, feed_version(version))
            self.single_request_until(version)
            # ... then a refused one: nobody may go back to an older version.
            mark = len(self.apache.error_log())
            write_feed(self.feed_path, REFUSED)
            time.sleep(2.0)
            self.assert_all_serve(version, "refused file after version %d" % version)
            self.assertRegex(self.apache.error_log()[mark:], r"id dup",
                             "the refused file's reason is not in the error log")
            # New children that never served the feed, from a parent that refuses the file.
            self.apache.graceful()
            self.assert_all_serve(version, "graceful restart on a refused file, version %d"
                                  % version)


if __name__ == "__main__":
    unittest.main()
