"""Faults under traffic (issue 8): memcached killed and restarted, the SMTP server down, the
SQLite file locked by another writer, PostgreSQL restarted, the feed replaced by garbage, and
`apache2 -k graceful` during downloads.

Each test runs a few threads of real requests through the fault, prints which requests failed
and with what answer (a table on stderr), and then checks from the outside that nothing was lost
or doubled: one account per registration answered 303 and none for the others, one mail per
account (sent exactly once when delivery is checked), one download-log row per logical download
holding every request that carried bytes. No answer is ever a 500 and no child crashes.
"""
# ctest-resource-lock: heavy
# ctest-timeout: 600

import collections
import hashlib
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

import harness
import proof_support as ps
import test_news as feeds
from harness import IntegrationTest

CODE_ROUTES = ("register", "verify-page")  # the routes that need memcached (CONTRACT 5)


class Traffic:
    """Threads sending requests until stop(); every answer is recorded with the phase it was
    sent in. A worker is a function(client, n) -> (kind, Response) that makes one request."""

    def __init__(self, apache, test):
        self.apache = apache
        test.addCleanup(self.stop)  # before the servers stop, even when the test fails
        self.phase = "before"
        self.results = []  # (phase sent, phase answered, kind, status, retry_after, detail)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.threads = []

    def add(self, worker, client=None, pause=0.0):
        def run():
            c = client or self.apache.client()
            n = 0
            while not self._stop.is_set():
                sent_in = self.phase
                try:
                    kind, r, detail = worker(c, n)
                    status, retry = r.status, r.header("Retry-After")
                except (OSError, http.client.HTTPException) as e:
                    kind, status, retry, detail = getattr(worker, "kind", "?"), 0, None, repr(e)
                with self.lock:
                    self.results.append((sent_in, self.phase, kind, status, retry, detail))
                n += 1
                if pause:
                    time.sleep(pause)

        t = threading.Thread(target=run, daemon=True)
        self.threads.append(t)
        return self

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self.threads:
            t.join(60)

    def table(self, title):
        """Counts by (phase, kind, status), printed so a run shows what failed and how."""
        counts = collections.Counter((s, k, st) for s, _, k, st, _, _ in self.results)
        lines = ["", "== %s: answers by phase sent, request kind, status" % title]
        for (phase, kind, status), n in sorted(counts.items()):
            lines.append("   %-10s %-16s %3s x %d" % (phase, kind, status or "ERR", n))
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()

    def of(self, kind=None, phase=None):
        return [r for r in self.results
                if (kind is None or r[2] == kind) and (phase is None or r[0] == phase)]


def registrar(prefix, emails_ok, emails_refused, limit=None):
    """Registers new addresses; records which ones got 303 and which did not. After `limit`
    accounts it only fetches the form (codes per client IP are limited to 20 an hour)."""
    def work(client, n):
        if limit is not None and len(emails_ok) >= limit:
            time.sleep(0.2)
            r = client.get("/account/register")
            return "register-page", r, ""
        email = "%s%d-%d@example.org" % (prefix, n, threading.get_ident() % 10000)
        r = ps.register(client, email)
        (emails_ok if r.status == 303 else emails_refused).append(email)
        return "register", r, email
    work.kind = "register"
    return work


def getter(kind, paths):
    def work(client, n):
        r = client.get(paths[n % len(paths)])
        return kind, r, r.location or ""
    work.kind = kind
    return work


class FaultTest(IntegrationTest):

    # --- shared checks ----------------------------------------------------------------------

    def assert_no_server_errors(self, apache, traffic=None):
        self.assertEqual(ps.server_errors(apache), [], "server errors in the access log")
        self.assertEqual(ps.crash_lines(apache), [])
        if traffic is not None:
            self.assertEqual([r for r in traffic.results if r[3] in (0, 500)], [],
                             "requests that failed without an answer or with a 500")

    def assert_server_errors_only_503(self, apache, traffic):
        others = [(req, st) for req, st in ps.server_errors(apache) if st != 503]
        self.assertEqual(others, [])
        self.assertEqual(ps.crash_lines(apache), [])
        self.assertEqual([r for r in traffic.results if r[3] == 0], [],
                         "requests that got no answer at all")
        for r in traffic.results:
            if r[3] == 503:
                self.assertTrue(r[4], "a 503 without Retry-After: %r" % (r,))

    def signed_in_answers_ok(self, traffic, kinds, allowed=(200, 503)):
        """Signed-in requests: `allowed` only. Where the session could not be read while the
        database was away the answer is 503, never a redirect to the sign-in page (the visitor
        is still signed in). Returns the number of 503s."""
        unavailable = 0
        for sent, answered, kind, status, _, detail in traffic.results:
            if kind not in kinds:
                continue
            self.assertIn(status, allowed, (sent, kind, status, detail))
            unavailable += status == 503
        return unavailable

    def assert_accounts_match(self, apache, ok, refused, prefix):
        """One account and one queued-or-sent mail for each 303, nothing for the others."""
        db = ps.Db(apache)
        emails = db.column("SELECT email FROM accounts WHERE email LIKE '%s%%'" % prefix)
        self.assertEqual(sorted(emails), sorted(set(ok)), "accounts vs registrations answered 303")
        self.assertEqual(len(emails), len(set(emails)))
        mails = collections.Counter(db.column(
            "SELECT recipient FROM mail_outbox WHERE recipient LIKE '%s%%'" % prefix))
        self.assertEqual(dict(mails), {e: 1 for e in set(ok)}, "one code mail per account")
        for e in refused:
            self.assertNotIn(e, mails)

    # --- memcached --------------------------------------------------------------------------

    def test_memcached_killed_and_restarted_under_load(self):
        mc = self.start_memcached()
        apache = ps.start_portal(self, memcached=mc, media_size=256 << 10, n_text=10)
        reader = ps.verified_client(apache, "mc-reader@example.org")
        ok, refused = [], []
        traffic = Traffic(apache, self)
        traffic.add(getter("news", ["/news/", "/news/t03", "/videos/%s" % ps.VIDEO_ID,
                                    "/news/feed.atom"]))
        traffic.add(getter("login-page", ["/account/login", "/account/register"]))
        traffic.add(getter("signed-in", ["/account/", "/download/%s/small" % ps.VIDEO_ID]),
                    client=reader)
        traffic.add(getter("verify-page", [ps.verify_path("mc-reader@example.org")]),
                    pause=0.1)
        # The per-IP limit (20 codes an hour, kept in memcached) bounds the registrations.
        traffic.add(registrar("mcload", ok, refused, limit=12), pause=0.4)
        traffic.start()
        time.sleep(2.5)

        traffic.phase = "down"
        os.kill(mc.pid, signal.SIGKILL)
        mc.proc.wait()
        time.sleep(4)
        traffic.phase = "back"
        mc.start()
        time.sleep(5)
        traffic.stop()
        traffic.table("memcached killed (SIGKILL) for 4 s, then restarted")

        self.assert_server_errors_only_503(apache, traffic)
        for sent, answered, kind, status, _, detail in traffic.results:
            if kind in CODE_ROUTES:
                if sent == "before" and answered == "before":
                    self.assertIn(status, (200, 303), (sent, kind, status, detail))
                else:
                    self.assertIn(status, (200, 303, 503), (sent, kind, status, detail))
            else:
                self.assertIn(status, (200,), (sent, kind, status, detail))
        self.assertTrue([r for r in traffic.of("register", "down") if r[3] == 503],
                        "no registration was refused while memcached was down")
        self.assertTrue(traffic.of("news", "down"))
        # Back without a restart: a new visitor registers and verifies.
        r = ps.wait_status(lambda: apache.client().get(ps.verify_path("x@example.org")), 200, 20)
        self.assertEqual(r.status, 200)
        late = apache.client()
        r = ps.register(late, "mcload-late@example.org")
        self.assertEqual(r.status, 303, r.body[:500])
        ok.append("mcload-late@example.org")
        self.assertEqual(ps.verify(late, apache, "mcload-late@example.org").status, 200)
        self.assert_accounts_match(apache, ok, refused, "mcload")

    # --- SMTP -------------------------------------------------------------------------------

    def test_smtp_down_during_registrations(self):
        """10 s refusing connections, then 10 s answering 451: every registration is a 303, and
        once the server is back every code arrives exactly once (after the sender's 30 s
        back-off, which has no setting to shorten it)."""
        smtp = self.start_smtp()
        apache = ps.start_portal(self, smtp=smtp, media_size=64 << 10, n_text=3)
        started = time.monotonic()
        smtp.stop()
        emails = []
        client = apache.client()
        for phase_end in (10, 20):
            if phase_end == 20:
                smtp.start()
                smtp.set_failing(True)
            for i in range(3):
                email = "smtp%d-%d@example.org" % (phase_end, i)
                r = ps.register(client, email)
                self.assertEqual(r.status, 303, r.body[:500])
                emails.append(email)
            time.sleep(max(0.0, started + phase_end - time.monotonic()))
        db = ps.Db(apache)
        attempts = db.rows("SELECT recipient, status, attempts, last_error FROM mail_outbox")
        self.assertEqual(sorted(r[0] for r in attempts), sorted(emails))
        self.assertTrue(all(r[1] == "queued" for r in attempts), attempts)
        self.assertTrue(all(int(r[2]) >= 1 for r in attempts), "the sender did not try: %r"
                        % (attempts,))
        self.assertEqual(smtp.messages(), [])
        smtp.set_failing(False)

        def delivered():
            got = collections.Counter(str(m["To"]) for m in smtp.messages())
            return got if all(got[e] >= 1 for e in emails) else None

        got = harness.wait_until(delivered, 60, 0.5)
        self.assertIsNotNone(got, "not every code arrived: %r" % (
            [str(m["To"]) for m in smtp.messages()],))
        time.sleep(3)  # a doubled delivery would show up now
        got = collections.Counter(str(m["To"]) for m in smtp.messages())
        self.assertEqual(dict(got), {e: 1 for e in emails})
        rows = db.rows("SELECT recipient, status, attempts FROM mail_outbox")
        self.assertEqual(len(rows), len(emails))
        self.assertTrue(all(r[1] == "sent" for r in rows), rows)
        sys.stderr.write("\n== SMTP down: outbox after delivery (recipient, status, attempts)\n"
                         + "\n".join("   %s" % (r,) for r in rows) + "\n")
        # The codes that arrived late still verify.
        r = ps.verify(client, apache, emails[-1])
        self.assertEqual(r.status, 200, r.body[:500])
        self.assert_no_server_errors(apache)

    # --- SQLite locked ----------------------------------------------------------------------

    def hold_sqlite_lock(self, db_path, seconds):
        """sqlite3 (as www-data) holding BEGIN EXCLUSIVE on db_path for `seconds`."""
        cmd = ["sqlite3", db_path]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", harness.RUN_USER, "--"] + cmd
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(harness.kill_pid, proc.pid, 5.0, proc.poll)
        proc.stdin.write(".timeout 10000\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        self.assertIn("locked", line)
        return proc

    def test_sqlite_locked_by_another_writer(self):
        apache = ps.start_portal(self, media_size=256 << 10, n_text=5)
        reader = ps.verified_client(apache, "lock-reader@example.org")
        account = ps.Db(apache).scalar(
            "SELECT id FROM accounts WHERE email = 'lock-reader@example.org'")
        ok, refused = [], []
        downloads = []

        def download(client, n):
            r = client.get("/download/%s/small" % ps.VIDEO_ID)
            if r.status == 200:
                downloads.append(len(r.raw))
            return "download", r, r.location or ""

        def sign_in(client, n):
            r = apache.client().submit("/account/login", {"email": "lock-reader@example.org",
                                                 "password": ps.PASSWORD})
            return "sign-in", r, ""

        traffic = Traffic(apache, self)
        traffic.add(getter("news", ["/news/", "/videos/%s" % ps.VIDEO_ID]))
        traffic.add(registrar("lockreg", ok, refused, limit=14), pause=0.2)
        traffic.add(download, client=reader, pause=0.05)
        traffic.add(sign_in, pause=0.2)
        traffic.start()
        time.sleep(1.5)
        traffic.phase = "locked"
        holder = self.hold_sqlite_lock(apache.db_path, 4)
        time.sleep(4)
        holder.stdin.write("COMMIT;\n.quit\n")
        holder.stdin.close()
        holder.wait(30)
        traffic.phase = "after"
        time.sleep(3)
        traffic.stop()
        traffic.table("SQLite held by BEGIN EXCLUSIVE for 4 s")

        self.assert_server_errors_only_503(apache, traffic)
        self.signed_in_answers_ok(traffic, ("download",))
        allowed = {"news": (200,), "register": (303, 503), "download": (200, 503),
                   "sign-in": (303, 503), "register-page": (200,)}
        for sent, answered, kind, status, _, detail in traffic.results:
            self.assertIn(status, allowed[kind], (sent, kind, status, detail))
            if sent == "before" and answered == "before" and kind != "news":
                self.assertNotEqual(status, 503, (sent, kind, detail))
        self.assertTrue(traffic.of("register", "after"))
        self.assertTrue(all(r[3] != 503 for r in traffic.results
                            if r[0] == "after" and r[1] == "after"),
                        "503s after the lock was gone")
        self.assert_accounts_match(apache, ok, refused, "lockreg")
        # Each download answered 200 is one logical download of its own (one row, one request,
        # the file's bytes), never two: a retried write does not count twice (the log's
        # completeness under a long lock is test_sqlite_lock_loses_no_download_log_rows).
        rows = ps.Db(apache).rows(
            "SELECT rendition, requests, bytes FROM media_downloads WHERE account_id = %d"
            % account)
        self.assertLessEqual(len(rows), len(downloads), rows)
        self.assertGreater(len(rows), 0, rows)
        for row in rows:
            self.assertEqual(int(row[1]), 1, rows)
            self.assertIn(int(row[2]), downloads, rows)

    def test_sqlite_lock_loses_no_download_log_rows(self):
        """The download log is written after the answer (the core's log_transaction hook calls
        media_gateway's after_sent); while SQLite is locked by another writer the write is retried
        for about 10 s, so no row is lost."""
        apache = ps.start_portal(self, media_size=64 << 10, n_text=3)
        reader = ps.verified_client(apache, "lostlog@example.org")
        downloads = []

        def download(client, n):
            r = client.get("/download/%s/small" % ps.VIDEO_ID)
            if r.status == 200:
                downloads.append(len(r.raw))
            return "download", r, r.location or ""

        traffic = Traffic(apache, self)
        traffic.add(download, client=reader, pause=0.05)
        traffic.start()
        time.sleep(1)
        holder = self.hold_sqlite_lock(apache.db_path, 3)
        time.sleep(3)
        holder.stdin.write("COMMIT;\n.quit\n")
        holder.stdin.close()
        holder.wait(30)
        time.sleep(1.5)
        traffic.stop()
        time.sleep(1)
        rows = ps.Db(apache).rows("SELECT requests, bytes FROM media_downloads")
        sys.stderr.write("\n== download log under a 3 s lock: %d downloads answered 200, "
                         "%d rows logged, %d bytes\n"
                         % (len(downloads), len(rows), sum(int(r[1]) for r in rows)))
        # One row per download answered 200, each with its one request and its bytes.
        self.assertEqual(len(rows), len(downloads), rows)
        self.assertEqual([int(r[0]) for r in rows], [1] * len(downloads), rows)
        self.assertEqual(sum(int(r[1]) for r in rows), sum(downloads), rows)

    # --- PostgreSQL restarted ---------------------------------------------------------------

    def test_postgresql_restarted(self):
        pg = self.start_postgres()
        apache = ps.start_portal(self, db=pg, media_size=256 << 10, n_text=5)
        reader = ps.verified_client(apache, "pg-reader@example.org")
        ok, refused = [], []
        traffic = Traffic(apache, self)
        traffic.add(getter("news", ["/news/", "/news/t02"]))
        traffic.add(getter("signed-in", ["/account/", "/download/%s/small" % ps.VIDEO_ID]),
                    client=reader, pause=0.05)
        traffic.add(registrar("pgload", ok, refused, limit=14), pause=0.3)
        traffic.start()
        time.sleep(2)
        traffic.phase = "restart"
        pg.restart()
        traffic.phase = "after"
        # Stale connections in mod_dbd's pool may fail once each; then everything works.
        time.sleep(5)
        traffic.stop()
        traffic.table("PostgreSQL restarted (pg_ctl stop -m fast; start)")

        self.assert_server_errors_only_503(apache, traffic)
        self.signed_in_answers_ok(traffic, ("signed-in",))
        for sent, answered, kind, status, _, detail in traffic.results:
            if kind != "signed-in":
                self.assertIn(status, {"news": (200,), "register": (303, 503),
                                       "register-page": (200,)}[kind],
                              (sent, kind, status, detail))
        # Without an httpd restart, a new visitor registers, verifies, downloads.
        late = apache.client()
        r = ps.wait_status(lambda: apache.client().get("/account/"), 303, 20)
        r = ps.register(late, "pgload-late@example.org")
        self.assertEqual(r.status, 303, r.body[:500])
        ok.append("pgload-late@example.org")
        self.assertEqual(ps.verify(late, apache, "pgload-late@example.org").status, 200)
        self.assertEqual(late.get("/download/%s/small" % ps.VIDEO_ID).status, 200)
        self.assertEqual(reader.get("/account/").status, 200)  # the old session still holds
        tail = [r for r in traffic.results if r[0] == "after" and r[3] == 503]
        self.assertLessEqual(len(tail), 8, "503s long after the restart: %r" % (tail,))
        self.assert_accounts_match(apache, ok, refused, "pgload")

    # --- feed replaced by garbage -----------------------------------------------------------

    def test_feed_replaced_by_garbage_mid_traffic(self):
        apache = ps.start_portal(self, media_size=64 << 10, n_text=8)
        headlines = []

        def news(client, n):
            r = client.get(["/news/", "/news/t01", "/videos/%s" % ps.VIDEO_ID][n % 3])
            headlines.append("Item number 1" in r.body or "Pressure test video" in r.body)
            return "news", r, ""

        traffic = Traffic(apache, self)
        for _ in range(3):
            traffic.add(news)
        traffic.start()
        time.sleep(1)
        traffic.phase = "garbage"
        garbage = [b"\x00\xff garbage \xfe" * 200,
                   b"<?xml version='1.0'?><newsMessage><itemSet><newsItem",
                   b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;</x>",
                   ps.portal_feed(list(apache.renditions.values()))[:1500].encode()]
        for i, g in enumerate(garbage):
            if i % 2:
                with open(apache.feed_path, "wb") as f:  # rewritten in place, not renamed
                    f.write(g)
            else:
                tmp = apache.feed_path + ".tmp"
                with open(tmp, "wb") as f:
                    f.write(g)
                os.chmod(tmp, 0o644)
                os.replace(tmp, apache.feed_path)
            time.sleep(1.2)
        logged = harness.wait_until(lambda: "feed" in apache.error_log().lower() and
                                    apache.feed_path in apache.error_log(), 10)
        traffic.phase = "good"
        feeds.write_feed(apache.feed_path, ps.portal_feed(list(apache.renditions.values()),
                                                          n_text=8, headline_prefix="Fresh"))
        fresh = harness.wait_until(lambda: "Fresh number 1" in apache.client().get("/news/").body,
                                   15)
        traffic.stop()
        traffic.table("feed replaced by 4 kinds of garbage, then by a good feed")

        self.assertTrue(logged, "the bad feed was not logged:\n" + apache.error_log()[-3000:])
        self.assertTrue(fresh, "the good feed was not picked up again")
        self.assert_no_server_errors(apache, traffic)
        for sent, answered, kind, status, _, detail in traffic.results:
            self.assertEqual(status, 200, (sent, kind, detail))
        garbage_answers = [h for (r, h) in zip(traffic.results, headlines) if r[1] == "garbage"]
        self.assertTrue(garbage_answers)
        self.assertTrue(all(h for (r, h) in zip(traffic.results, headlines)
                            if r[0] != "good"), "a page lost the last good feed's items")

    # --- graceful restart during downloads --------------------------------------------------

    def slow_download(self, client, path, want_sha, results, chunk=64 << 10, pause=0.006):
        """Reads `path` slowly; resumes with Range after a cut. Appends (statuses, sha ok, bytes
        per answer) to results."""
        got = b""
        statuses, carried = [], []
        for _ in range(5):
            conn = http.client.HTTPConnection(client.host, client.port, timeout=60)
            headers = {"Cookie": client.cookie_header()}
            if got:
                headers["Range"] = "bytes=%d-" % len(got)
            try:
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                statuses.append(r.status)
                before = len(got)
                while True:
                    data = r.read(chunk)
                    if not data:
                        break
                    got += data
                    time.sleep(pause)
                carried.append(len(got) - before)
                if r.status in (200, 206) and hashlib.sha256(got).hexdigest() == want_sha:
                    break
            except (OSError, http.client.HTTPException):
                carried.append(len(got) - before)
            finally:
                conn.close()
        results.append((statuses, hashlib.sha256(got).hexdigest() == want_sha, carried))

    def test_graceful_restart_during_downloads(self):
        apache = ps.start_portal(self, media_size=24 << 20, n_text=3)
        want = apache.renditions["hd720"]["sha256"]
        clients = [ps.verified_client(apache, "grace%d@example.org" % i) for i in range(2)]
        results = []
        threads = [threading.Thread(target=self.slow_download,
                                    args=(clients[i % 2], "/download/%s/hd720" % ps.VIDEO_ID,
                                          want, results))
                   for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        apache.graceful()
        after = apache.client().get("/news/")
        for t in threads:
            t.join(120)
        sys.stderr.write("\n== graceful during 4 downloads of 24 MiB: (statuses, sha256 ok, "
                         "bytes per answer)\n" + "\n".join("   %r" % (r,) for r in results) + "\n")
        self.assertEqual(after.status, 200)
        self.assertEqual(len(results), 4)
        for statuses, sha_ok, _ in results:
            self.assertTrue(sha_ok, results)
            self.assertTrue(all(s in (200, 206) for s in statuses), results)
        self.assert_no_server_errors(apache)
        # Per account, one logical download per answer 200 (the whole file), the resumptions (206)
        # added to one of them: every answer that carried bytes is counted once.
        harness.wait_until(lambda: ps.Db(apache).scalar(
            "SELECT COALESCE(SUM(requests), 0) FROM media_downloads") >=
            sum(len(s) for s, _, _ in results), 10)
        db = ps.Db(apache)
        for i, c in enumerate(clients):
            email = "grace%d@example.org" % i
            ident = db.scalar("SELECT id FROM accounts WHERE email = '%s'" % email)
            mine = [r for j, r in enumerate(results) if j % 2 == i]
            rows = db.rows("SELECT requests, bytes FROM media_downloads WHERE account_id = %d "
                           "AND rendition = 'hd720'" % ident)
            self.assertEqual(len(rows), sum(s.count(200) for s, _, _ in mine), (rows, mine))
            self.assertEqual(sum(int(r[0]) for r in rows), sum(len(s) for s, _, _ in mine),
                             (rows, mine))
            carried = sum(sum(b) for _, _, b in mine)
            logged = sum(int(r[1]) for r in rows)
            if all(len(s) == 1 for s, _, _ in mine):
                self.assertEqual(logged, carried, (rows, mine))
            else:  # a cut answer may have sent more than the client read before the cut
                self.assertGreaterEqual(logged, carried, (rows, mine))


if __name__ == "__main__":
    unittest.main()
