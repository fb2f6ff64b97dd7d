"""One erasure, every plugin's data (issue 17, CONTRACT section 13 `GET /account/export` and
`POST /account/delete`, section 10 `accounts delete`), on SQLite and PostgreSQL, with the four
shipped plugins and a third-party one loaded by path (the tutorial's watchlist, built out of tree
against the staged SDK).

Two accounts each leave data in every plugin through the real pages: a verified account (the
emailed code), sessions, a newsletter subscription with its consent, a download of a real file,
watchlist items. Then:
- the export of one holds each plugin's section, with its own data and none of the other's;
- `natomedia-admin accounts delete` erases it (and tells the watchlist), or the page does;
- a scan of every column of every table finds neither its address nor, in any column that
  refers to an account, its id; the other account's data is all there (so the scan can find);
- on SQLite the database file and its write-ahead log hold no byte of the address; on
  PostgreSQL a dump of every table's data holds none.
What stays, as the contract says: the consent record (anonymised: time, action, text version,
language, source), the download-log row (under a pseudonym that is no account), and after the
page's erasure the goodbye mail's outbox row, which names the address until 7 days after
delivery (section 12); the scans take that row out first, as the retention task would.
"""
# ctest-timeout: 900

import json
import os
import shutil
import sqlite3
import subprocess
import unittest

import harness
import portal_flows as flows
from test_authentication import installed_plugins

VICTIM = "leaving.person@example.org"
STAYING = "staying.person@example.org"
ITEM = "urn:natomedia:" + flows.VIDEO_ID

_watchlist_so = None


def build_watchlist(source_dir, prefix, work_root):
    """docs/tutorial/watchlist built and installed out of tree against the staged SDK (once)."""
    global _watchlist_so
    if _watchlist_so and os.path.exists(_watchlist_so):
        return _watchlist_so
    src = os.path.join(source_dir, "docs", "tutorial", "watchlist")
    build = os.path.join(work_root, "erasure-watchlist-build")
    shutil.rmtree(build, ignore_errors=True)
    subprocess.run(["cmake", "-S", src, "-B", build, "-DCMAKE_PREFIX_PATH=" + prefix],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", build], check=True, capture_output=True)
    subprocess.run(["cmake", "--install", build], check=True, capture_output=True)
    subprocess.run(["chmod", "-R", "a+rX", build, prefix], check=True)
    _watchlist_so = os.path.join(build, "natomedia_watchlist.so")
    return _watchlist_so


class ErasureFlows:

    db_kind = "sqlite"

    def setUp(self):
        super().setUp()
        plugins = installed_plugins(self.prefix)
        if len(plugins) < 4:
            self.skipTest("not every plugin is built: %s" % plugins)
        root = os.environ.get("NM_TEST_WORK", "/tmp")
        os.makedirs(root, exist_ok=True)
        watchlist = build_watchlist(self.source_dir, self.prefix, root)
        media, href, self.data = flows.make_media(self.work_dir, size=70000)
        feed = flows.write_file(os.path.join(self.work_dir, "feed.xml"),
                                flows.feed_text(href, self.data))
        self.apache = self.make_apache(plugins=plugins + [watchlist], feed=feed,
                                       media_root=media, db=self.start_database())

    # --- helpers ------------------------------------------------------------------------------

    def sql(self, statement, params=()):
        return self.apache.sql(statement, params)

    def count(self, statement, params=()):
        return int(self.sql(statement, params)[0][0])

    def visitor(self, email):
        """A verified account with data in every plugin; returns (signed-in client, id)."""
        c = self.apache.client()
        flows.register(self, c, email)
        flows.submit_code(self, c, email, flows.code_from(self.apache.mail, email))
        self.assertTrue(flows.signed_in(c))
        second = self.apache.client()  # a second session, on another browser
        self.assertEqual(flows.sign_in(second, email).status, 303)
        self.assertIn(flows.subscribe(c).status, (200, 303))
        self.assertEqual(c.get(flows.download_path()).status, 200)
        page = c.get("/watchlist/")
        self.assertEqual(page.status, 200, page.body[:500])
        r = c.submit("/watchlist/", {"item": ITEM})
        self.assertEqual(r.status, 303, r.body[:500])
        account_id = self.count("SELECT id FROM accounts WHERE email = ?", (email,))
        return c, account_id

    def tables(self):
        if self.pg:
            rows = self.sql("SELECT table_name FROM information_schema.tables "
                            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
        else:
            rows = self.sql("SELECT name FROM sqlite_master WHERE type = 'table'")
        return sorted(r[0] for r in rows)

    def columns(self, table):
        if self.pg:
            rows = self.sql("SELECT column_name FROM information_schema.columns "
                            "WHERE table_schema = 'public' AND table_name = ?", (table,))
            return [r[0] for r in rows]
        return [r[1] for r in self.sql('PRAGMA table_info("%s")' % table)]

    def traces(self, address, account_id):
        """(table, column, rows) wherever the address appears in any column (any case), or the
        account id in a column that refers to an account."""
        found = []
        for table in self.tables():
            for column in self.columns(table):
                rows = self.count('SELECT COUNT(*) FROM "%s" WHERE LOWER(CAST("%s" AS TEXT)) '
                                  "LIKE ?" % (table, column), ("%" + address.lower() + "%",))
                if rows:
                    found.append((table, column, rows))
                refers = "account" in column.lower() or (table == "accounts" and column == "id")
                if refers:
                    rows = self.count('SELECT COUNT(*) FROM "%s" WHERE CAST("%s" AS TEXT) = ?'
                                      % (table, column), (str(account_id),))
                    if rows:
                        found.append((table, column + "=id", rows))
        return found

    def drop_kept_goodbye(self, address):
        """The goodbye mail's outbox row, the one trace the contract keeps after the page's
        erasure (7 days after delivery), taken out as the retention task would."""
        if self.pg:
            self.sql("DELETE FROM mail_outbox WHERE recipient = ?", (address,))
            return
        con = sqlite3.connect(self.apache.db_path, timeout=30)
        try:
            con.execute("PRAGMA secure_delete = ON")
            con.execute("DELETE FROM mail_outbox WHERE recipient = ?", (address,))
            con.commit()
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            con.close()
            self.apache.give_back_db_files()

    def raw_copies(self):
        """The database as bytes: SQLite's files (the database, its write-ahead log), or a
        pg_dump of every table's data."""
        if self.pg:
            res = subprocess.run([harness.PG_BIN + "/pg_dump", "-h", "127.0.0.1", "-p",
                                  str(self.pg.port), "-U", "natomedia", "-d", "natomedia",
                                  "--data-only"], capture_output=True, timeout=120,
                                 stdin=subprocess.DEVNULL)
            self.assertEqual(res.returncode, 0, res.stderr)
            return {"pg_dump": res.stdout}
        out = {}
        for suffix in ("", "-wal"):
            path = self.apache.db_path + suffix
            if os.path.exists(path):
                with open(path, "rb") as f:
                    out[os.path.basename(path)] = f.read()
        return out

    def assert_erased(self, address, account_id, other, other_id):
        self.assertEqual(self.traces(address, account_id), [])
        copies = self.raw_copies()
        for name, data in copies.items():
            self.assertFalse(address.encode() in data.lower(),
                             "%s holds the erased address" % name)
        self.assertIn(other.encode(), b"".join(copies.values()))  # the scan finds what is there
        # The other account keeps everything, in every plugin.
        self.assertEqual(self.count("SELECT COUNT(*) FROM accounts WHERE id = ?", (other_id,)), 1)
        for table in ("account_sessions", "subscriptions", "consents", "media_downloads",
                      "watchlist_items"):
            self.assertGreaterEqual(self.count("SELECT COUNT(*) FROM %s WHERE account_id = ?"
                                               % table, (other_id,)), 1, table)
        self.assertTrue(any(t[0] == "accounts" for t in self.traces(other, other_id)))
        # What the contract keeps, without the person: the consent (anonymised), the download
        # (a pseudonym that is no account).
        self.assertEqual(self.count("SELECT COUNT(*) FROM consents WHERE account_id = 0 AND "
                                    "email = '' AND ip = '' AND user_agent = ''"), 1)
        self.assertEqual(self.count("SELECT COUNT(*) FROM media_downloads WHERE account_id < 0"), 1)

    # --- the tests ----------------------------------------------------------------------------

    def test_export_has_every_plugins_section(self):
        c, account_id = self.visitor(VICTIM)
        self.visitor(STAYING)
        r = c.get("/account/export")
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertTrue(r.header("Content-Type").startswith("application/json"))
        data = json.loads(r.body)
        self.assertEqual(set(data), {"authentication", "newsletter", "media_gateway",
                                     "watchlist"})
        auth = data["authentication"]
        self.assertEqual(auth["account"]["email"], VICTIM)
        self.assertEqual(len(auth["sessions"]), 2)
        news = data["newsletter"]
        self.assertEqual(news["subscription"]["state"], "subscribed")
        self.assertEqual(news["subscription"]["email"], VICTIM)
        self.assertEqual([x["action"] for x in news["consents"]], ["given"])
        self.assertRegex(news["consents"][0]["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertTrue(news["consents"][0]["text_version"])
        downloads = data["media_gateway"]["downloads"]
        self.assertEqual([(d["item"], d["rendition"]) for d in downloads],
                         [(flows.VIDEO_ID, flows.RENDITION)])
        self.assertEqual(downloads[0]["bytes"], str(len(self.data)))
        self.assertEqual([i["item"] for i in data["watchlist"]["items"]], [ITEM])
        # Nothing of the other account, and no secret.
        self.assertNotIn(STAYING, r.body)
        self.assertNotIn("argon2", r.body)
        for (h,) in self.sql("SELECT id_hash FROM account_sessions"):
            self.assertNotIn(h, r.body)

    def test_admin_delete_erases_every_plugins_data(self):
        c, account_id = self.visitor(VICTIM)
        other, other_id = self.visitor(STAYING)
        self.assertTrue(self.traces(VICTIM, account_id))  # there is something to erase
        res = flows.admin(self.prefix, self.apache.conf_path, "accounts", "delete", VICTIM)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("erased %s (account %d): 2 session(s)" % (VICTIM, account_id), res.stdout)
        for plugin in ("verification", "newsletter", "media_gateway", "watchlist"):
            self.assertIn(plugin, res.stdout.split("told", 1)[1])
        self.assertFalse(flows.signed_in(c))
        self.assertTrue(flows.signed_in(other))
        self.assert_erased(VICTIM, account_id, STAYING, other_id)
        # Again: no such account any more (exit 1), nothing else touched.
        res = flows.admin(self.prefix, self.apache.conf_path, "accounts", "delete", VICTIM)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn("no account with the address", res.stderr)

    def test_page_delete_erases_every_plugins_data(self):
        c, account_id = self.visitor(VICTIM)
        other, other_id = self.visitor(STAYING)
        r = c.submit("/account/delete", {"current_password": flows.PASSWORD})
        self.assertEqual(r.status, 303, r.body[:500])
        self.assertEqual(r.location, "/?done=deleted")
        self.assertFalse(flows.signed_in(c))
        self.assertTrue(flows.signed_in(other))
        # The one row the contract keeps: the goodbye mail to the address.
        harness.wait_until(lambda: [m for m in self.apache.mail.messages()
                                    if "has been deleted" in str(m.get("Subject", ""))], 20, 0.1)
        self.assertEqual(self.traces(VICTIM, account_id),
                         [("mail_outbox", "recipient", 1)])
        self.drop_kept_goodbye(VICTIM)
        self.assert_erased(VICTIM, account_id, STAYING, other_id)


ErasureSqliteTest, ErasurePostgresTest = harness.on_each_database(ErasureFlows, "Erasure")


if __name__ == "__main__":
    unittest.main()
