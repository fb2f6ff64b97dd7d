"""No codes at rest (CONTRACT section 12): after a registration and a password reset whose mails
were really delivered (SMTP), a copy of the database (every table, every text or blob column)
holds none of the codes mailed, in digits or in base64, none of the delivered bodies, and no
session or reset-grant token. A message the sender finally gives up on keeps its body for 24
hours, for `natomedia-admin outbox retry`, and then loses it (the clock is moved by editing the
rows' timestamps). Each test runs on SQLite and on PostgreSQL.
"""
# ctest-timeout: 600

import unittest

import at_rest_support as support
import harness
import portal_flows as flows

ANN = "ann.atrest@example.org"
BOB = "bob.pending@example.org"
CAROL = "carol.failed@example.org"


class AtRest:
    db_kind = "sqlite"
    maxDiff = None

    def setUp(self):
        super().setUp()
        self.mc = self.start_memcached()
        self.smtp = self.start_smtp()
        self.apache = self.make_apache(plugins=("authentication", "verification"),
                                       db=self.start_database(), memcached=self.mc,
                                       smtp=self.smtp)
        self.db = support.PortalDb(self.apache, self.work_dir)

    def test_no_code_body_or_token_in_a_database_copy(self):
        ann = self.apache.client()
        flows.register(self, ann, ANN)
        register_code = flows.code_from(self.smtp, ANN)
        flows.submit_code(self, ann, ANN, register_code)
        session = ann.cookies["nm_session"]
        reset_code, grant = support.reset_password(self, self.apache.client(), ANN, self.smtp,
                                                   after=1)
        pending = self.apache.client()
        flows.register(self, pending, BOB)  # never verified: its code stays unused
        pending_code = flows.code_from(self.smtp, BOB)
        signed = self.apache.client()
        self.assertEqual(flows.sign_in(signed, ANN, support.NEW_PASSWORD).status, 303)

        # Every mail delivered: the registration and reset codes, "password changed", Bob's code.
        self.assertTrue(support.wait_delivered(self.db), "mail still queued")
        delivered = [m for m in self.smtp.messages()]
        self.assertGreaterEqual(len(delivered), 4, [m["Subject"] for m in delivered])
        self.assertEqual(self.db.scalar("SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'"),
                         len(delivered))

        needles = {}
        needles.update(support.code_needles(register_code, "registration code"))
        needles.update(support.code_needles(reset_code, "reset code"))
        needles.update(support.code_needles(pending_code, "pending account's code"))
        for i, msg in enumerate(delivered):
            needles.update(support.body_needles(msg, "mail %d (%s)" % (i, msg["Subject"])))
        needles["session id"] = session
        needles["second session id"] = signed.cookies["nm_session"]
        needles["reset grant"] = grant
        found = self.db.find(needles)
        self.assertEqual(found, [], "secrets at rest (table, column, what)")

        # The rows stay as the record of what was sent: recipient, subject, times, status.
        rows = self.db.rows("SELECT recipient, subject, status, sent_at FROM mail_outbox "
                            "WHERE recipient = '%s' ORDER BY id" % ANN)
        self.assertEqual(len(rows), 3, rows)
        for recipient, subject, status, sent_at in rows:
            self.assertEqual((recipient, status), (ANN, "sent"))
            self.assertTrue(subject and int(sent_at) > 0, (subject, sent_at))

    def test_failed_message_keeps_its_body_24_hours_then_loses_it(self):
        self.smtp.set_failing(True)
        flows.register(self, self.apache.client(), CAROL)
        one = "FROM mail_outbox WHERE recipient = '%s'" % CAROL
        self.assertTrue(flows.wait_for(
            lambda: self.db.scalar("SELECT attempts " + one) >= 1, 20), "never tried")
        # 24 hours of failures: the next attempt is the last.
        self.db.execute("UPDATE mail_outbox SET created_at = created_at - %d, next_attempt_at = 0 "
                        "WHERE recipient = '%s'" % (support.DAY + 60, CAROL))
        self.assertTrue(flows.wait_for(
            lambda: self.db.rows("SELECT status " + one) == [("failed",)], 20),
            self.db.rows("SELECT status, attempts, last_error " + one))
        # (The text's length and whether it holds the subject line: psql splits on new lines.)
        length = lambda: self.db.scalar("SELECT LENGTH(message) " + one)  # noqa: E731
        whole = lambda: self.db.scalar(  # noqa: E731
            "SELECT COUNT(*) %s AND message LIKE '%%Subject: %%'" % one)
        self.assertEqual(whole(), 1)  # kept for `outbox retry`

        # Pruning within the 24 hours keeps it; a day after the failure it goes.
        support.admin(self, self.apache, "db", "prune")
        self.assertEqual(whole(), 1)
        self.db.execute("UPDATE mail_outbox SET failed_at = failed_at - %d WHERE recipient = '%s'"
                        % (support.DAY + 60, CAROL))
        out = support.admin(self, self.apache, "db", "prune").stdout
        self.assertRegex(out, r"(?m)^\s*1\s+failed mail bodies")
        self.assertEqual(length(), 0)
        rows = self.db.rows("SELECT recipient, subject, status " + one)
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0][0], rows[0][2]), (CAROL, "failed"))
        self.assertTrue(rows[0][1])

        # Without its body there is nothing to send again: retry says so and sends nothing.
        self.smtp.set_failing(False)
        retry = support.admin(self, self.apache, "outbox", "retry").stdout
        self.assertIn("1 failed message(s) lost their text", retry)
        self.assertEqual(self.db.rows("SELECT status " + one), [("failed",)])


AtRestSqliteTest, AtRestPostgresTest = harness.on_each_database(
    AtRest, "AtRest", sqlite_needs_prefix=True)


if __name__ == "__main__":
    unittest.main()
