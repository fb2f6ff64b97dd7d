"""Retention (CONTRACT section 12): what section 12 says goes, goes, and nothing else.

`natomedia-admin db prune` at once, and the mod_watchdog task inside a running httpd (its period
shortened with NatoMediaPruneInterval), remove: pending accounts 7 days after their last
registration, delivered mail 7 days after delivery, sessions past their idle or absolute
lifetime, expired reset grants, download-log rows older than NatoMediaDownloadLogDays (400 days
by default); fresh rows of every kind stay, and a live session keeps working. Rows are aged by
editing their timestamps in SQL. Each test runs on SQLite and on PostgreSQL.
"""
# ctest-timeout: 600

import os
import re
import unittest

import at_rest_support as support
import harness
import portal_flows as flows
from harness import IntegrationTest

DAY = support.DAY
ANN = "ann.keep@example.org"
DAN = "dan.grant@example.org"
OLD_PENDING = "old.pending@example.org"
NEW_PENDING = "new.pending@example.org"


class Retention:
    db_kind = "sqlite"

    def setUp(self):
        super().setUp()
        self.mc = self.start_memcached()

    def start(self, directives=""):
        self.apache = self.make_apache(db=self.start_database(), memcached=self.mc,
                                       directives=directives)
        self.db = support.PortalDb(self.apache, self.work_dir)

    def verified(self, email):
        c = self.apache.client()
        flows.register(self, c, email)
        flows.submit_code(self, c, email, flows.code_from(self.apache.mail, email))
        return c

    def account_id(self, email):
        return self.db.scalar("SELECT id FROM accounts WHERE email = '%s'" % email)

    def make_rows(self, log_days=400):
        """Two of every kind of row, one due for pruning and one not; returns what identifies
        them."""
        t = support.now()
        live = self.verified(ANN)            # a live session
        idle = self.apache.client()          # a session idle for longer than 30 minutes
        self.assertEqual(flows.sign_in(idle, ANN).status, 303)
        old = self.apache.client()           # a session older than 12 hours
        self.assertEqual(flows.sign_in(old, ANN).status, 303)
        ann = self.account_id(ANN)
        hashes = [r[0] for r in self.db.rows(
            "SELECT id_hash FROM account_sessions WHERE account_id = %d ORDER BY created_at, "
            "id_hash" % ann)]
        self.assertEqual(len(hashes), 3)
        self.db.execute("UPDATE account_sessions SET last_seen = %d WHERE account_id = %d"
                        % (t, ann))
        self.db.execute("UPDATE account_sessions SET last_seen = %d WHERE id_hash = '%s'"
                        % (t - 1800 - 60, support.sha256_hex(idle.cookies["nm_session"])))
        self.db.execute("UPDATE account_sessions SET created_at = %d WHERE id_hash = '%s'"
                        % (t - 43200 - 60, support.sha256_hex(old.cookies["nm_session"])))

        # Reset grants: Ann's expired, Dan's live (a code typed, no new password yet).
        dan = self.verified(DAN)             # Dan's live session
        for email in (ANN, DAN):
            c = self.apache.client()
            r = c.submit("/account/password/reset", {"email": email, "return_to": "/"})
            self.assertEqual(r.status, 303)
            code = flows.code_from(self.apache.mail, email, after=1)
            r = c.submit("/account/password/reset/verify?email=" + email,
                         {"email": email, "code": code}, action="/account/password/reset/verify")
            self.assertEqual(r.status, 303, r.body[:300])
        self.assertEqual(self.db.scalar("SELECT COUNT(*) FROM password_reset_grants"), 2)
        self.db.execute("UPDATE password_reset_grants SET expires_at = %d WHERE account_id = %d"
                        % (t - 1, ann))

        # Pending accounts: one registered 7 days ago, one 6 days ago.
        flows.register(self, self.apache.client(), OLD_PENDING)
        flows.register(self, self.apache.client(), NEW_PENDING)
        self.db.execute("UPDATE accounts SET created_at = %d WHERE email = '%s'"
                        % (t - 7 * DAY - 60, OLD_PENDING))
        self.db.execute("UPDATE accounts SET created_at = %d WHERE email = '%s'"
                        % (t - 6 * DAY, NEW_PENDING))

        # Delivered mail: Ann's first mail was delivered 7 days ago, the rest just now.
        self.assertTrue(support.wait_delivered(self.db), "mail still queued")
        first = self.db.scalar("SELECT MIN(id) FROM mail_outbox WHERE recipient = '%s'" % ANN)
        mails = self.db.scalar("SELECT COUNT(*) FROM mail_outbox")
        self.db.execute("UPDATE mail_outbox SET sent_at = %d WHERE id = %d"
                        % (t - 7 * DAY - 60, first))

        # The download log: a row just older than the retention, one just younger.
        for item, age in (("old-item", log_days * DAY + 60), ("new-item", log_days * DAY - 3600)):
            self.db.execute(
                "INSERT INTO media_downloads (account_id, item_id, rendition, bucket, bytes, "
                "requests, status, started_at, last_at) VALUES (%d, '%s', 'hd720', %d, 10, 1, "
                "200, %d, %d)" % (ann, item, (t - age) // 3600, t - age, t - age))
        return {"live": live, "dan": dan, "idle": idle, "old": old, "ann": ann,
                "first_mail": first,
                "mails": mails}

    def assert_pruned(self, rows):
        live = sorted(support.sha256_hex(rows[c].cookies["nm_session"]) for c in ("live", "dan"))
        self.assertEqual(sorted(r[0] for r in self.db.rows("SELECT id_hash FROM account_sessions")),
                         live)
        self.assertEqual([r[0] for r in self.db.rows(
            "SELECT a.email FROM password_reset_grants g JOIN accounts a ON a.id = g.account_id")],
            [DAN])
        self.assertEqual(sorted(r[0] for r in self.db.rows("SELECT email FROM accounts")),
                         sorted([ANN, DAN, NEW_PENDING]))
        self.assertEqual(self.db.scalar("SELECT COUNT(*) FROM mail_outbox WHERE id = %d"
                                        % rows["first_mail"]), 0)
        self.assertEqual(self.db.scalar("SELECT COUNT(*) FROM mail_outbox"), rows["mails"] - 1)
        self.assertEqual([r[0] for r in self.db.rows("SELECT item_id FROM media_downloads")],
                         ["new-item"])
        self.assertTrue(flows.signed_in(rows["live"]))

    def test_admin_db_prune_removes_what_is_due(self):
        self.start()
        rows = self.make_rows()
        res = support.admin(self, self.apache, "db", "prune")
        out = res.stdout
        for line in (r"1\s+pending accounts", r"2\s+expired sessions",
                     r"1\s+expired reset grants", r"1\s+delivered mails",
                     r"1\s+download-log rows"):
            self.assertRegex(out, r"(?m)^\s*" + line, out)
        self.assert_pruned(rows)
        # Nothing more is due: a second run removes nothing.
        again = support.admin(self, self.apache, "db", "prune").stdout
        self.assertIsNone(re.search(r"(?m)^\s*[1-9]\d*\s", again), again)

    def test_watchdog_prunes_inside_httpd(self):
        self.start("NatoMediaPruneInterval 2\nNatoMediaDownloadLogDays 30")
        rows = self.make_rows(log_days=30)
        done = flows.wait_for(
            lambda: self.db.scalar("SELECT COUNT(*) FROM accounts WHERE email = '%s'"
                                   % OLD_PENDING) == 0 and
            self.db.scalar("SELECT COUNT(*) FROM media_downloads") == 1, 20)
        self.assertTrue(done, "the watchdog task did not prune within 20 s")
        self.assert_pruned(rows)
        self.assertRegex(self.apache.error_log(), r"natomedia:info.*pruned")

    def test_download_log_days_is_validated(self):
        def configtest(name, directives):
            apache = harness.Apache(self.prefix, os.path.join(self.work_dir, name),
                                    directives=directives, memcached="--SERVER=127.0.0.1:1")
            return apache.configtest()

        for good in ("NatoMediaDownloadLogDays 1", "NatoMediaDownloadLogDays 36500",
                     "NatoMediaPruneInterval 1\nNatoMediaDownloadLogDays 400"):
            rc, out = configtest("good%d" % len(good), good)
            self.assertEqual(rc, 0, out)
        for bad in ("0", "-3", "ten", "36501"):
            rc, out = configtest("bad" + bad, "NatoMediaDownloadLogDays %s" % bad)
            self.assertNotEqual(rc, 0, out)
            self.assertIn("NatoMediaDownloadLogDays: '%s' is not a whole number of days from 1 "
                          "to 36500" % bad, out)
        for bad in ("0", "x", "86401"):
            rc, out = configtest("pi" + bad, "NatoMediaPruneInterval %s" % bad)
            self.assertNotEqual(rc, 0, out)
            self.assertIn("NatoMediaPruneInterval: '%s' is not a whole number of seconds" % bad,
                          out)


@unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class RetentionSqliteTest(Retention, IntegrationTest):
    db_kind = "sqlite"


@unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class RetentionPostgresTest(Retention, IntegrationTest):
    db_kind = "pgsql"

    def test_download_log_days_is_validated(self):
        self.skipTest("database-independent; run on SQLite")


if __name__ == "__main__":
    unittest.main()
