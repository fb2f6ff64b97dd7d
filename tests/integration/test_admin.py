"""natomedia-admin against a database a real Apache with the four plugins made (issue 9,
CONTRACT section 10): accounts list/show/disable/enable/delete (GDPR erasure), outbox
status/retry, feed validate, --help and exit codes; and (issue 18, CONTRACT section 14) options
parsed by apr_getopt_long, --version, --json, sessions list|end, db prune.
"""

import json
import os
import re
import sqlite3
import unittest

import harness
import portal_flows as flows
from harness import IntegrationTest

ANN = "ann@example.org"
BOB = "bob@example.org"


class AdminTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.media, href, self.data = flows.make_media(self.work_dir)
        self.feed = flows.write_file(os.path.join(self.work_dir, "feed.xml"),
                                     flows.feed_text(href, self.data))
        self.apache = self.make_apache(feed=self.feed, media_root=self.media)

    # --- helpers ------------------------------------------------------------------------------

    def admin(self, *args, expect=0):
        res = flows.admin(self.prefix, self.apache.conf_path, *args)
        if expect is not None:
            self.assertEqual(res.returncode, expect, "natomedia-admin %s:\n%s%s"
                             % (" ".join(args), res.stdout, res.stderr))
        return res

    def db(self):
        return sqlite3.connect("file:%s?mode=ro" % self.apache.db_path, uri=True)

    def rows(self, sql, *params):
        db = self.db()
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def verified(self, email):
        c = self.apache.client()
        flows.register(self, c, email)
        flows.submit_code(self, c, email, flows.code_from(self.apache.mail, email))
        return c

    def show(self, email):
        out = self.admin("accounts", "show", email).stdout
        return dict(re.findall(r"^([a-z ]+):\s+(.*)$", out, re.M))

    # --- accounts -----------------------------------------------------------------------------

    def test_accounts_lifecycle_and_gdpr_erasure(self):
        ann = self.verified(ANN)
        self.assertEqual(flows.subscribe(ann).status, 200)
        self.assertEqual(ann.get(flows.download_path()).status, 200)
        flows.register(self, self.apache.client(), BOB)  # pending: never verified

        listed = self.admin("accounts", "list").stdout.splitlines()
        self.assertEqual([l.split("\t")[1:3] for l in listed],
                         [[ANN, "verified"], [BOB, "pending"]])
        self.assertRegex(listed[0], r"^\d+\t%s\tverified\t\d{4}-\d\d-\d\dT[\d:]+Z\t\d{4}-" % ANN)
        self.assertTrue(listed[1].endswith("\t-"), listed[1])  # never verified
        pending = self.admin("accounts", "list", "--state", "pending").stdout
        self.assertEqual([l.split("\t")[1] for l in pending.splitlines()], [BOB])

        info = self.show("  Ann@Example.ORG ")  # typed the way a person would
        self.assertEqual(info["email"], ANN)
        self.assertEqual(info["state"], "verified")
        self.assertTrue(info["sessions"].startswith("1"), info)
        self.assertTrue(info["newsletter"].startswith("subscribed since"), info)
        self.assertEqual(info["consent records"], "1")
        self.assertTrue(info["downloads"].startswith("1 ("), info)

        missing = self.admin("accounts", "show", "nobody@example.org", expect=1)
        self.assertIn("no account with the address nobody@example.org", missing.stderr)
        self.assertEqual(self.admin("accounts", "disable", "nobody@example.org",
                                    expect=1).stdout, "")

        # disable: the session ends at once and sign-in is refused.
        out = self.admin("accounts", "disable", ANN).stdout
        self.assertIn("disabled %s; 1 session(s) ended" % ANN, out)
        self.assertFalse(flows.signed_in(ann))
        self.assertEqual(flows.sign_in(self.apache.client(), ANN).status, 401)
        self.assertIn("already disabled", self.admin("accounts", "disable", ANN).stdout)
        self.assertEqual(self.show(ANN)["state"], "disabled")

        # enable: verified again, sign-in works.
        self.assertIn("enabled " + ANN, self.admin("accounts", "enable", ANN).stdout)
        self.assertEqual(self.show(ANN)["state"], "verified")
        again = self.apache.client()
        self.assertEqual(flows.sign_in(again, ANN).status, 303)
        self.assertTrue(flows.signed_in(again))
        self.admin("accounts", "enable", BOB)  # never disabled: says so, exit 0
        self.assertEqual(self.show(BOB)["state"], "pending")

        (ann_id,) = self.rows("SELECT id FROM accounts WHERE email = ?", ANN)[0]
        self.assertTrue(self.rows("SELECT 1 FROM mail_outbox WHERE recipient = ?", ANN))

        # delete: GDPR erasure.
        out = self.admin("accounts", "delete", ANN).stdout
        self.assertIn("erased %s" % ANN, out)
        self.assertIn(": 1 session(s), 0 reset grant(s) and ", out)
        # The one erasure: every plugin's account-deleted listener, told by name.
        self.assertRegex(out, r"the account-deleted event told .*newsletter")
        self.assertIn("media_gateway", out)
        self.assertFalse(flows.signed_in(again))
        self.assertEqual(flows.sign_in(self.apache.client(), ANN).status, 401)
        self.assertEqual(self.rows("SELECT * FROM accounts WHERE id = ?", ann_id), [])
        self.assertEqual(self.rows("SELECT * FROM account_sessions WHERE account_id = ?",
                                   ann_id), [])
        self.assertEqual(self.rows("SELECT * FROM subscriptions WHERE email = ?", ANN), [])
        self.assertEqual(self.rows("SELECT * FROM mail_outbox WHERE recipient = ?", ANN), [])
        consents = self.rows("SELECT email, ip, user_agent, account_id, subscription_id, action, "
                             "text_version, recorded_at FROM consents")
        self.assertEqual(len(consents), 1)
        email, ip, agent, account, subscription, action, version, when = consents[0]
        self.assertEqual((email, ip, agent, account, subscription), ("", "", "", 0, 0))
        self.assertEqual(action, "given")
        self.assertTrue(version and when)
        downloads = self.rows("SELECT id, account_id, bytes FROM media_downloads")
        self.assertEqual(len(downloads), 1)
        self.assertEqual(downloads[0][1], -downloads[0][0])  # a pseudonym, no account
        self.assertEqual(downloads[0][2], len(self.data))
        export = self.admin("subscribers", "export").stdout
        self.assertNotIn(ANN, export)
        self.assertIn("no account with the address " + ANN,
                      self.admin("accounts", "show", ANN, expect=1).stderr)
        self.assertEqual([l.split("\t")[1] for l in
                          self.admin("accounts", "list").stdout.splitlines()], [BOB])

        # The address is free again: a new registration starts from nothing.
        flows.register(self, self.apache.client(), ANN)

    # --- sessions, --json, db prune (issue 18) ------------------------------------------------

    def test_sessions_list_and_end(self):
        ann = self.verified(ANN)
        other = self.apache.client()
        self.assertEqual(flows.sign_in(other, ANN).status, 303)
        bob = self.verified(BOB)
        (ann_id,) = self.rows("SELECT id FROM accounts WHERE email = ?", ANN)[0]
        hashes = sorted(h[:12] for (h,) in self.rows(
            "SELECT id_hash FROM account_sessions WHERE account_id = ?", ann_id))
        self.assertEqual(len(hashes), 2)

        listed = self.admin("sessions", "list", "Ann@Example.org").stdout.splitlines()
        self.assertEqual(sorted(l.split("\t")[0] for l in listed), hashes)
        for l in listed:
            self.assertRegex(l, r"^[0-9a-f]{12}\t\d{4}-\d\d-\d\dT[\d:]+Z\t\d{4}-\d\d-\d\dT[\d:]+Z$")
        by_id = self.admin("sessions", "list", str(ann_id)).stdout.splitlines()
        self.assertEqual(by_id, listed)
        as_json = json.loads(self.admin("sessions", "list", "--json", ANN).stdout)
        self.assertEqual(sorted(x["session"] for x in as_json), hashes)
        self.assertEqual({(x["account_id"], x["email"]) for x in as_json}, {(ann_id, ANN)})
        # The cookie's id itself is never shown (only its hash is stored; a prefix of it shown).
        self.assertTrue(all(len(x["session"]) == 12 for x in as_json))

        out = self.admin("sessions", "end", ANN).stdout
        self.assertIn("ended 2 session(s) of %s (account %d)" % (ANN, ann_id), out)
        self.assertFalse(flows.signed_in(ann))
        self.assertFalse(flows.signed_in(other))
        self.assertTrue(flows.signed_in(bob))  # another account's session is untouched
        self.assertEqual(self.admin("sessions", "list", ANN).stdout, "")
        self.assertEqual(json.loads(self.admin("sessions", "list", ANN, "--json").stdout), [])
        # The account is not changed: it signs in again.
        self.assertEqual(flows.sign_in(self.apache.client(), ANN).status, 303)

        self.assertIn("no account nobody@example.org",
                      self.admin("sessions", "list", "nobody@example.org", expect=1).stderr)
        self.assertIn("no account 999999", self.admin("sessions", "end", "999999",
                                                      expect=1).stderr)
        for args in (("sessions",), ("sessions", "list"), ("sessions", "kill", ANN),
                     ("sessions", "list", ANN, BOB), ("sessions", "end", "--json", ANN),
                     ("sessions", "list", "not-an-address")):
            res = self.admin(*args, expect=64)
            self.assertTrue(res.stderr.startswith("natomedia-admin: "), res.stderr)

    def test_json_output_is_valid_and_escaped(self):
        self.verified(ANN)
        flows.register(self, self.apache.client(), BOB)
        # An address no form would take, to see the escaping: a quote, a backslash, a tab.
        weird = 'we"ird\\na\tme@example.org'
        db = sqlite3.connect(self.apache.db_path, timeout=30)
        try:
            db.execute("UPDATE accounts SET email = ? WHERE email = ?", (weird, BOB))
            db.commit()
        finally:
            db.close()
        for args in (("accounts", "list", "--json"), ("--json", "accounts", "list")):
            listed = json.loads(self.admin(*args).stdout)
            self.assertEqual([(a["email"], a["state"]) for a in listed],
                             [(ANN, "verified"), (weird, "pending")])
            self.assertIsInstance(listed[0]["id"], int)
            self.assertRegex(listed[0]["verified"], r"^\d{4}-\d\d-\d\dT[\d:]+Z$")
            self.assertIsNone(listed[1]["verified"])
        state = json.loads(self.admin("accounts", "list", "--state", "pending", "--json").stdout)
        self.assertEqual([a["email"] for a in state], [weird])
        shown = json.loads(self.admin("accounts", "show", "--json", ANN).stdout)
        self.assertEqual((shown["email"], shown["state"]), (ANN, "verified"))
        self.assertTrue(shown["sessions"].startswith("1"), shown)
        self.assertIn("password_changed", shown)
        self.assertEqual(json.loads(self.admin("accounts", "show", weird, "--json").stdout)["email"],
                         weird)
        outbox = json.loads(self.admin("outbox", "status", "--json").stdout)
        self.assertGreaterEqual(sum(outbox.values()), 2, outbox)  # two codes mailed
        self.assertTrue(set(outbox) <= {"queued", "sending", "sent", "failed"}, outbox)
        # --json where there is nothing to list or show: a usage error, not silently text.
        for args in (("--json", "db", "migrate"), ("accounts", "disable", "--json", ANN)):
            self.admin(*args, expect=64)

    def test_db_prune_runs_the_retention_rules_now(self):
        ann = self.verified(ANN)
        bob = self.verified(BOB)
        (ann_id,) = self.rows("SELECT id FROM accounts WHERE email = ?", ANN)[0]
        db = sqlite3.connect(self.apache.db_path, timeout=30)
        try:  # Ann's session was last used a year ago: past NatoMediaSessionIdle.
            db.execute("UPDATE account_sessions SET last_seen = last_seen - 366 * 86400, "
                       "created_at = created_at - 366 * 86400 WHERE account_id = ?", (ann_id,))
            db.commit()
        finally:
            db.close()
        out = self.admin("db", "prune").stdout
        self.assertRegex(out, r"(?m)^\s*1  expired sessions$")
        self.assertRegex(out, r"(?m)^pruned \d+ rows: .*1 expired sessions")
        self.assertEqual(self.rows("SELECT * FROM account_sessions WHERE account_id = ?",
                                   ann_id), [])
        self.assertFalse(flows.signed_in(ann))
        self.assertTrue(flows.signed_in(bob))
        again = self.admin("db", "prune").stdout
        self.assertRegex(again, r"(?m)^\s*0  expired sessions$")

    def test_options_version_and_db_forms(self):
        run = lambda *a: flows.admin(self.prefix, None, *a)  # noqa: E731
        with open(os.path.join(self.source_dir, "CMakeLists.txt")) as f:
            version = re.search(r"project\(NatoMedia VERSION (\S+)", f.read()).group(1)
        self.assertEqual(version, "2.0.0")
        for flag in ("--version", "-V"):
            res = run(flag)
            self.assertEqual((res.returncode, res.stdout), (0, "natomedia-admin %s\n" % version))
        self.verified(ANN)
        db = "sqlite3:" + self.apache.db_path
        joined = run("--db=" + db, "accounts", "list")
        apart = run("--db", db, "accounts", "list")
        self.assertEqual(joined.returncode, 0, joined.stderr)
        self.assertEqual(joined.stdout, apart.stdout)
        self.assertIn(ANN, joined.stdout)
        res = run("--db")
        self.assertEqual(res.returncode, 64)
        self.assertEqual(res.stderr.splitlines()[-1], "Try 'natomedia-admin --help'.")
        self.assertIn("--db", res.stderr.splitlines()[0])

    def test_tables_of_missing_plugins_are_skipped(self):
        # A database with only the authentication plugin's tables (no newsletter, no downloads).
        solo = self.make_apache(name="solo", plugins=["authentication", "verification"])
        c = solo.client()
        flows.register(self, c, ANN)
        flows.submit_code(self, c, ANN, flows.code_from(solo.mail, ANN))
        info = flows.admin(self.prefix, solo.conf_path, "accounts", "show", ANN)
        self.assertEqual(info.returncode, 0, info.stderr)
        self.assertNotIn("newsletter", info.stdout)
        self.assertNotIn("downloads", info.stdout)
        gone = flows.admin(self.prefix, solo.conf_path, "accounts", "delete", ANN)
        self.assertEqual(gone.returncode, 0, gone.stderr)
        self.assertNotIn("newsletter", gone.stdout)  # not loaded, not told
        self.assertFalse(flows.signed_in(c))
        self.assertEqual(solo.sql("SELECT COUNT(*) FROM accounts"), [(0,)])
        # Without the configuration the plugins cannot be reached: refused, nothing erased.
        c2 = solo.client()
        flows.register(self, c2, BOB)
        res = flows.admin(self.prefix, None, "--db", "sqlite3:" + solo.db_path,
                          "accounts", "delete", BOB)
        self.assertEqual(res.returncode, 78, res.stdout + res.stderr)
        self.assertIn("--config", res.stderr)
        self.assertEqual(solo.sql("SELECT COUNT(*) FROM accounts WHERE email = ?", (BOB,)),
                         [(1,)])

    # --- outbox -------------------------------------------------------------------------------

    def test_outbox_status_and_retry(self):
        self.verified(ANN)
        flows.wait_for(lambda: "sent\t" in self.admin("outbox", "status").stdout)
        status = self.admin("outbox", "status").stdout
        self.assertRegex(status, r"(?m)^sent\t1$")
        self.assertIn("nothing to retry", self.admin("outbox", "retry").stdout)

        # The sender gave up on a message (24 hours of failures): retry hands it back. A failed
        # message keeps its text (a delivered one does not: it is put back for the simulation).
        delivered = len(self.apache.mail.messages())
        with open(self.apache.mail.messages()[-1].path) as f:
            text = f.read()
        db = sqlite3.connect(self.apache.db_path)
        db.execute("UPDATE mail_outbox SET status = 'failed', attempts = 30, "
                   "created_at = created_at - 90000, failed_at = created_at - 3600, "
                   "last_error = 'simulated', message = ?", (text,))
        db.commit()
        db.close()
        self.assertRegex(self.admin("outbox", "status").stdout, r"(?m)^failed\t1$")
        self.assertIn("re-queued 1 failed message(s)", self.admin("outbox", "retry").stdout)
        flows.wait_for(lambda: len(self.apache.mail.messages()) > delivered, 20)
        self.assertEqual(len(self.apache.mail.messages()), delivered + 1)
        self.assertRegex(self.admin("outbox", "status").stdout, r"(?m)^sent\t1$")
        self.assertEqual(self.rows("SELECT attempts FROM mail_outbox"), [(1,)])

    # --- feed, help, exit codes ---------------------------------------------------------------

    def test_feed_validate_exit_codes(self):
        share = ("--share-dir", os.path.join(self.prefix, "share/natomedia"))
        good = flows.admin(self.prefix, None, *share, "feed", "validate", self.feed)
        self.assertEqual(good.returncode, 0, good.stderr)
        self.assertIn("valid", good.stdout)
        bad = flows.write_file(os.path.join(self.work_dir, "bad.xml"),
                               flows.feed_text(drop_headline=True))
        res = flows.admin(self.prefix, None, *share, "feed", "validate", bad)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertRegex(res.stderr, r"line \d+|:\d+:")
        broken = flows.write_file(os.path.join(self.work_dir, "broken.xml"),
                                  "<newsMessage>\n<header>\n</newsMessage>\n")
        res = flows.admin(self.prefix, None, *share, "feed", "validate", broken)
        self.assertEqual(res.returncode, 1)
        self.assertRegex(res.stderr, r"line 3|:3:")

    def test_help_and_usage_errors(self):
        run = lambda *a: flows.admin(self.prefix, None, *a, as_run_user=False)  # noqa: E731
        top = run("--help")
        self.assertEqual(top.returncode, 0)
        for word in ("accounts", "outbox retry", "feed validate", "db migrate", "db prune",
                     "sessions list", "sessions end", "--json", "--version"):
            self.assertIn(word, top.stdout)
        for command in ("accounts", "outbox", "feed", "db", "newsletter", "subscribers",
                        "sessions"):
            res = run(command, "--help")
            self.assertEqual(res.returncode, 0, command)
            self.assertTrue(res.stdout.startswith("usage: natomedia-admin"), res.stdout)
        self.assertIn("accounts delete [--yes] EMAIL", run("accounts", "--help").stdout)
        self.assertIn("outbox retry", run("outbox", "-h").stdout)
        for args in (("frobnicate",), (), ("accounts",), ("accounts", "frob"),
                     ("accounts", "show"), ("accounts", "show", "a@b.c", "d@e.f"),
                     ("accounts", "list", "--state", "odd"), ("outbox",), ("--bogus",),
                     ("nonsense", "--help"), ("--db",), ("--config",), ("--json", "db", "migrate"),
                     ("--bogus=1", "accounts", "list")):
            res = run(*args)
            self.assertEqual(res.returncode, 64, "%s: %s" % (args, res.stderr))
            self.assertTrue(res.stderr.startswith("natomedia-admin: "), res.stderr)
            # The reason on one line, then a one-line hint (not the whole usage text).
            lines = res.stderr.splitlines()
            self.assertEqual(len(lines), 2, res.stderr)
            self.assertRegex(lines[1], r"^Try 'natomedia-admin ([a-z]+ )?--help'\.$")
        # No database configured at all: a configuration error.
        res = run("--config", os.path.join(self.work_dir, "missing.conf"), "accounts", "list")
        self.assertEqual(res.returncode, 78, res.stderr)
        # A database that does not answer: unavailable.
        port = harness.free_port()
        res = run("--db", "pgsql:host=127.0.0.1 port=%d dbname=x user=x connect_timeout=2" % port,
                  "accounts", "list")
        self.assertEqual(res.returncode, 69, res.stderr)
        # --config follows Include: the database is found through an included file.
        inc = os.path.join(self.work_dir, "site.conf")
        with open(inc, "w") as f:
            f.write("ServerRoot %s\nInclude %s\n" % (self.work_dir, self.apache.conf_path))
        os.chmod(inc, 0o644)
        res = flows.admin(self.prefix, inc, "accounts", "list")
        self.assertEqual(res.returncode, 0, res.stderr)


class AdminPostgresTest(IntegrationTest):
    """The issue 18 commands on PostgreSQL: sessions list|end and --json, db prune."""

    def setUp(self):
        super().setUp()
        self.pg = self.start_postgres()
        self.media, href, self.data = flows.make_media(self.work_dir)
        self.feed = flows.write_file(os.path.join(self.work_dir, "feed.xml"),
                                     flows.feed_text(href, self.data))
        self.apache = self.make_apache(feed=self.feed, media_root=self.media, db=self.pg)

    def admin(self, *args, expect=0):
        res = flows.admin(self.prefix, self.apache.conf_path, *args)
        self.assertEqual(res.returncode, expect, "natomedia-admin %s:\n%s%s"
                         % (" ".join(args), res.stdout, res.stderr))
        return res

    def test_sessions_json_and_prune(self):
        ann = self.apache.client()
        flows.register(self, ann, ANN)
        flows.submit_code(self, ann, ANN, flows.code_from(self.apache.mail, ANN))
        other = self.apache.client()
        self.assertEqual(flows.sign_in(other, ANN).status, 303)
        ann_id = int(self.pg.psql("SELECT id FROM accounts WHERE email = '%s'" % ANN))
        listed = json.loads(self.admin("--json", "sessions", "list", str(ann_id)).stdout)
        self.assertEqual(len(listed), 2)
        self.assertEqual({x["email"] for x in listed}, {ANN})
        accounts = json.loads(self.admin("accounts", "list", "--json").stdout)
        self.assertEqual([(a["id"], a["email"]) for a in accounts], [(ann_id, ANN)])
        # One session idle for a year: db prune takes it, the other stays.
        self.pg.psql("UPDATE account_sessions SET last_seen = last_seen - 366 * 86400, "
                     "created_at = created_at - 366 * 86400 WHERE id_hash = '%s'"
                     % self.pg.psql("SELECT id_hash FROM account_sessions "
                                    "ORDER BY created_at LIMIT 1").strip())
        self.assertRegex(self.admin("db", "prune").stdout, r"(?m)^\s*1  expired sessions$")
        self.assertEqual(len(json.loads(self.admin("sessions", "list", ANN, "--json").stdout)), 1)
        self.assertIn("ended 1 session(s) of " + ANN, self.admin("sessions", "end", ANN).stdout)
        self.assertFalse(flows.signed_in(ann))
        self.assertFalse(flows.signed_in(other))
        self.assertEqual(self.admin("sessions", "list", ANN).stdout, "")


if __name__ == "__main__":
    unittest.main()
