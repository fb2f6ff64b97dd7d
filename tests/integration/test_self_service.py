"""Integration tests of account self-service (CONTRACT section 13, issue 17): the password change
with the current password, the list of sessions and ending every other one, and the rough edges
of the account page (16: /account/login while signed in; 17: one row per download, kB, time).

Real httpd, memcached and mail; SQLite, and the password change once more on PostgreSQL.
"""
# ctest-timeout: 900

import json
import os
import pwd
import re
import unittest

import harness
from test_authentication import AuthFlows, GOOD_PASSWORD, NEW_PASSWORD, installed_plugins
from test_foundation import build_example


class SelfServiceFlows(AuthFlows):

    def signed_in_client(self, address, password=GOOD_PASSWORD, agent="Browser-A/1.0"):
        c = self.client()
        c.default_headers["User-Agent"] = agent
        r = self.login(c, address, password)
        self.assertEqual(r.status, 303, r.body[:500])
        return c

    def epoch(self, address):
        return int(self.sql("SELECT credential_epoch FROM accounts WHERE email = ?",
                            (address,))[0][0])

    def test_change_password(self):
        self.need_codes()
        address = "changer@example.org"
        self.make_verified(address)
        here = self.signed_in_client(address)
        elsewhere = self.signed_in_client(address, agent="Browser-B/2.0")
        self.assertEqual(len(self.sql("SELECT id_hash FROM account_sessions")), 2)
        epoch = self.epoch(address)

        # The account page leads to the form, not to the emailed-code reset.
        page = here.get("/account/")
        self.assertEqual(page.status, 200)
        self.assertIn('href="/account/password"', page.body)
        self.assertNotIn("/account/password/reset", page.body)
        form = here.get("/account/password")
        self.assertEqual(form.status, 200)
        self.assertIn('name="current_password"', form.body)
        self.assertEqual(form.headers.get("Cache-Control"), "no-store")

        # No CSRF token: refused before anything changes.
        r = here.post("/account/password", {"current_password": GOOD_PASSWORD,
                                             "password": NEW_PASSWORD,
                                             "password_confirm": NEW_PASSWORD})
        self.assertEqual(r.status, 403)

        # A wrong current password: 401, counted by the sign-in throttle.
        r = here.submit("/account/password", {"current_password": "Wrong-Horse7!x",
                                               "password": NEW_PASSWORD,
                                               "password_confirm": NEW_PASSWORD})
        self.assertEqual(r.status, 401, r.body[:500])
        self.assertIn("The current password is not correct.", r.body)
        self.assertIn('aria-invalid="true"', r.body)

        # A new password the policy refuses: 422 naming the rule; a mismatch: 422.
        r = here.submit("/account/password", {"current_password": GOOD_PASSWORD,
                                               "password": "short", "password_confirm": "short"})
        self.assertEqual(r.status, 422, r.body[:500])
        self.assertIn('id="password-error"', r.body)
        r = here.submit("/account/password", {"current_password": GOOD_PASSWORD,
                                               "password": NEW_PASSWORD,
                                               "password_confirm": NEW_PASSWORD + "x"})
        self.assertEqual(r.status, 422)
        self.assertEqual(self.epoch(address), epoch)  # nothing changed yet

        r = here.submit("/account/password", {"current_password": GOOD_PASSWORD,
                                               "password": NEW_PASSWORD,
                                               "password_confirm": NEW_PASSWORD})
        self.assertEqual(r.status, 303, r.body[:500])
        self.assertEqual(r.location, "/account/?done=password")
        page = here.get(r.location)
        self.assertEqual(page.status, 200)  # this browser stays signed in
        self.assertIn('id="account-notice"', page.body)
        self.assertIn("Your password has been changed.", page.body)
        self.assertFalse(self.signed_in(elsewhere))  # every other session ended
        self.assertEqual(len(self.sql("SELECT id_hash FROM account_sessions")), 1)
        self.assertEqual(self.epoch(address), epoch + 1)  # links die with trust
        self.wait_mail(address, "Your password was changed")

        fresh = self.client()
        self.assertEqual(self.login(fresh, address, GOOD_PASSWORD).status, 401)
        self.assertEqual(self.login(fresh, address, NEW_PASSWORD).status, 303)

        # A notice name that is not one of ours shows nothing.
        page = here.get("/account/?done=%3Cscript%3E")
        self.assertNotIn('id="account-notice"', page.body)

    def test_wrong_current_password_is_throttled(self):
        self.need_codes()
        address = "guessed@example.org"
        self.make_verified(address)
        c = self.signed_in_client(address)
        statuses = []
        for _ in range(6):
            r = c.submit("/account/password", {"current_password": "Not-The-One9!x",
                                                "password": NEW_PASSWORD,
                                                "password_confirm": NEW_PASSWORD})
            statuses.append(r.status)
        # The sign-in throttle's 5 places of the address: the 6th guess is not checked.
        self.assertEqual(statuses[:5], [401] * 5, statuses)
        self.assertEqual(statuses[5], 429, statuses)
        # ... and a sign-in with the right password is refused too: the same counters.
        self.assertEqual(self.login(self.client(), address, GOOD_PASSWORD).status, 429)

    def test_sessions_list_and_end_others(self):
        self.need_codes()
        address = "many@example.org"
        self.make_verified(address)
        firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        here = self.signed_in_client(address, agent=firefox)
        other = self.signed_in_client(address, agent="Browser-B/2.0 <b>x</b>")
        page = here.get("/account/sessions")
        self.assertEqual(page.status, 200)
        self.assertEqual(page.headers.get("Cache-Control"), "no-store")
        rows = re.findall(r"<tr[^>]*>\s*<td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>",
                          page.body)
        self.assertEqual(len(rows), 2, page.body)
        agents = " ".join(r[0] for r in rows)
        # A known browser is named readably (the raw header is the cell's title); an unknown
        # one is shown as it came, escaped.
        self.assertIn("Firefox on Linux <strong>(this device)</strong>", agents)
        self.assertIn('title="' + firefox + '"', page.body)
        self.assertIn("Browser-B/2.0 &lt;b&gt;x&lt;/b&gt;", agents)  # escaped
        for row in rows:
            self.assertRegex(row[1], r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$")
            self.assertRegex(row[2], r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$")
        self.assertNotIn("id_hash", page.body)
        for (h,) in self.sql("SELECT id_hash FROM account_sessions"):
            self.assertNotIn(h, page.body)  # no secret on the page

        r = here.post("/account/sessions/end-others", {})
        self.assertEqual(r.status, 403)  # CSRF
        self.assertTrue(self.signed_in(other))
        r = here.submit("/account/sessions", {}, action="/account/sessions/end-others")
        self.assertEqual(r.status, 303)
        self.assertEqual(r.location, "/account/?done=sessions")
        self.assertTrue(self.signed_in(here))
        self.assertFalse(self.signed_in(other))
        page = here.get("/account/sessions")
        self.assertIn("No other device is signed in.", page.body)
        self.assertNotIn("/account/sessions/end-others", page.body)

        fr = here.get("/account/sessions?lang=fr")
        self.assertIn("Où vous êtes connecté", fr.body)
        self.assertIn("(cet appareil)", fr.body)
        self.assertIn("Firefox sous Linux", fr.body)

    def test_export(self):
        self.need_codes()
        address = "exporter@example.org"
        self.make_verified(address)
        c = self.signed_in_client(address, agent='Quote"Agent\\1')
        self.signed_in_client(address, agent="Other/2")
        r = c.get("/account/export")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("application/json"))
        self.assertIn("attachment", r.header("Content-Disposition"))
        self.assertEqual(r.header("Cache-Control"), "no-store")
        # One object keyed by plugin name: this plugin's part is the account and its sessions.
        data = json.loads(r.body)["authentication"]
        self.assertEqual(data["account"]["email"], address)
        self.assertEqual(data["account"]["state"], "verified")
        self.assertRegex(data["account"]["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(len(data["sessions"]), 2)
        mine = [s for s in data["sessions"] if s["this_one"]]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["user_agent"], 'Quote"Agent\\1')
        for (h,) in self.sql("SELECT id_hash FROM account_sessions"):
            self.assertNotIn(h, r.body)
        self.assertNotIn(c.cookies["nm_session"], r.body)
        self.assertNotIn("argon2", r.body)  # no password hash

    def test_signed_out_visitor_is_sent_to_sign_in(self):
        c = self.client()
        for path in ("/account/password", "/account/sessions", "/account/export",
                     "/account/delete"):
            r = c.get(path)
            self.assertEqual(r.status, 303, path)
            self.assertIn("/account/login?return_to=", r.location)

    def test_login_page_while_signed_in(self):
        self.need_codes()
        self.make_verified("already@example.org")
        c = self.signed_in_client("already@example.org")
        r = c.get("/account/login")
        self.assertEqual(r.status, 303)
        self.assertEqual(r.location, "/account/")
        anon = self.client()
        self.assertEqual(anon.get("/account/login").status, 200)

    def test_change_password_page_en_fr(self):
        self.need_codes()
        self.make_verified("bilingual@example.org")
        c = self.signed_in_client("bilingual@example.org")
        en = c.get("/account/password?lang=en")
        self.assertIn("<h1 id=\"change-title\">Change your password</h1>", en.body)
        self.assertIn("Current password", en.body)
        fr = c.get("/account/password?lang=fr")
        self.assertIn("Changer de mot de passe", fr.body)
        self.assertIn("Mot de passe actuel", fr.body)
        self.assertIn('lang="fr"', fr.body)


class DeletionFlows:
    """POST /account/delete with every plugin loaded, the out-of-tree example plugin too: the one
    erasure reaches each through the account-deleted event."""

    db_kind = "sqlite"

    def setUp(self):
        super().setUp()
        plugins = installed_plugins(self.prefix)
        if not {"authentication", "verification", "newsletter", "media_gateway"} <= set(plugins):
            self.skipTest("not every plugin is built: %s" % plugins)
        root = os.environ.get("NM_TEST_WORK", "/tmp")
        os.makedirs(root, exist_ok=True)
        example = build_example(self.prefix, root)
        self.apache = self.make_apache(plugins=plugins + [example],
                                       db=self.start_database())

    def sql(self, statement, params=()):
        return self.apache.sql(statement, params)

    def count(self, statement, params=()):
        return int(self.sql(statement, params)[0][0])

    def test_delete_erases_every_plugins_data(self):
        address = "leaving@example.org"
        c = self.apache.client()
        r = c.submit("/account/register", {"email": address, "password": GOOD_PASSWORD,
                                            "password_confirm": GOOD_PASSWORD})
        self.assertEqual(r.status, 303)
        self.sql("UPDATE accounts SET state = 'verified' WHERE email = ?", (address,))
        if self.db_kind == "sqlite":
            pw = pwd.getpwnam(harness.RUN_USER)
            for name in os.listdir(self.apache.data_dir):
                os.chown(os.path.join(self.apache.data_dir, name), pw.pw_uid, pw.pw_gid)
        self.assertEqual(c.submit("/account/login", {"email": address,
                                                      "password": GOOD_PASSWORD}).status, 303)
        other = self.apache.client()
        self.assertEqual(other.submit("/account/login", {"email": address,
                                                          "password": GOOD_PASSWORD}).status, 303)
        account_id = self.count("SELECT id FROM accounts WHERE email = ?", (address,))
        # Data about the account in every plugin: a subscription with its consent, a download,
        # the example plugin's visit count.
        r = c.submit("/account/", {"consent": "1"}, action="/newsletter/subscribe")
        self.assertIn(r.status, (200, 303), r.body[:500])
        self.assertEqual(self.count("SELECT COUNT(*) FROM subscriptions WHERE account_id = ?",
                                    (account_id,)), 1)
        self.sql("INSERT INTO media_downloads (account_id, item_id, rendition, bucket, bytes, "
                 "requests, status, started_at, last_at) VALUES (?, 'item-1', 'hd720', 1, 70600, "
                 "1, 200, 1000, 1000)", (account_id,))
        self.assertEqual(c.get("/example/hello").status, 200)
        self.assertEqual(self.count("SELECT COUNT(*) FROM example_account_visits "
                                    "WHERE account_id = ?", (account_id,)), 1)

        # The out-of-tree plugin's part of the export, under its name.
        export = json.loads(c.get("/account/export").body)
        self.assertEqual(export["example"], {"visits": "1"})
        self.assertEqual(export["newsletter"]["subscription"]["state"], "subscribed")
        self.assertEqual(len(export["media_gateway"]["downloads"]), 1)

        page = c.get("/account/")
        self.assertIn('href="/account/delete"', page.body)
        form = c.get("/account/delete")
        self.assertEqual(form.status, 200)
        self.assertIn("This cannot be undone.", form.body)
        # No CSRF token: refused. A wrong password: 401, and nothing is erased.
        r = c.post("/account/delete", {"current_password": GOOD_PASSWORD})
        self.assertEqual(r.status, 403)
        r = c.submit("/account/delete", {"current_password": "Wrong-Horse7!x"})
        self.assertEqual(r.status, 401)
        self.assertEqual(self.count("SELECT COUNT(*) FROM accounts WHERE id = ?",
                                    (account_id,)), 1)

        r = c.submit("/account/delete", {"current_password": GOOD_PASSWORD})
        self.assertEqual(r.status, 303, r.body[:500])
        self.assertEqual(r.location, "/?done=deleted")
        self.assertNotIn("nm_session", c.cookies)
        self.assertEqual(self.count("SELECT COUNT(*) FROM accounts WHERE id = ?",
                                    (account_id,)), 0)
        self.assertEqual(self.count("SELECT COUNT(*) FROM account_sessions"), 0)
        self.assertEqual(other.get("/account/").status, 303)  # every session ended
        self.assertEqual(self.count("SELECT COUNT(*) FROM subscriptions"), 0)
        self.assertEqual(self.count("SELECT COUNT(*) FROM consents WHERE email <> '' OR "
                                    "account_id <> 0"), 0)
        self.assertEqual(self.count("SELECT COUNT(*) FROM consents"), 1)  # kept, anonymised
        self.assertEqual(self.count("SELECT COUNT(*) FROM media_downloads WHERE account_id = ?",
                                    (account_id,)), 0)
        self.assertEqual(self.count("SELECT COUNT(*) FROM media_downloads"), 1)  # anonymised
        self.assertEqual(self.count("SELECT COUNT(*) FROM example_account_visits"), 0)
        # A goodbye mail, and nothing older is left queued for the address.
        msgs = harness.wait_until(
            lambda: [m for m in self.apache.mail.messages()
                     if "has been deleted" in str(m.get("Subject", ""))], 20, 0.1)
        self.assertTrue(msgs, "no goodbye mail")
        self.assertIn(address, str(msgs[0]["To"]))
        # The address is free again.
        r = self.apache.client().submit("/account/register", {
            "email": address, "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD})
        self.assertEqual(r.status, 303)


# The password change and the sessions once more on PostgreSQL.
SelfServiceSqliteTest, SelfServicePostgresTest = harness.on_each_database(
    SelfServiceFlows, "SelfService")


DeletionSqliteTest, DeletionPostgresTest = harness.on_each_database(DeletionFlows, "Deletion")


# The AuthFlows tests themselves run in test_authentication.py, not twice here.
for _cls in (SelfServiceSqliteTest, SelfServicePostgresTest):
    for _name in [n for n in dir(AuthFlows) if n.startswith("test_")]:
        if _name not in SelfServiceFlows.__dict__:
            setattr(_cls, _name, None)
del _cls, _name


if __name__ == "__main__":
    unittest.main()
