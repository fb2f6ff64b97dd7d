"""Links die with trust, and tokens stay out of the access log (CONTRACT section 12; issue 16).

Each test makes, the visitor's way, the three things that stand for an account without its
password: a signed download link (from the video page), a password-reset grant (a browser that
went through the real reset flow and holds the grant cookie) and a newsletter unsubscribe link
(from a real issue, sent by `natomedia-admin newsletter send`). It checks that all three work,
changes the account's trust one way (password reset, email change, disable, delete), and checks
that all three stop working at once, while links made afterwards work.

The email-change test changes the address the visitor's way (POST /account/email, then the code
mailed to the new address on /account/email/verify).

Every trust test runs on SQLite and on PostgreSQL; the token-format and access-log tests do not
depend on the database and run on SQLite only.
"""
# ctest-timeout: 1200

import base64
import hashlib
import hmac
import os
import unittest
import urllib.parse

import harness
import portal_flows as flows
from harness import IntegrationTest

PASSWORD = "Trust-me-not-7!"
NEW_PASSWORD = "Changed-trust-9?"
ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


def shipped_log_conf():
    source = os.environ.get("NM_SOURCE_DIR") or os.path.dirname(os.path.dirname(harness.HERE))
    return os.path.join(source, "conf", "natomedia-access-log.conf")


class LinksDie:
    """The tests, written once; the classes at the end choose the database."""

    db_kind = "sqlite"

    def setUp(self):
        super().setUp()
        media, href, self.data = flows.make_media(self.work_dir)
        feed = flows.write_file(os.path.join(self.work_dir, "feed.xml"),
                                flows.feed_text(href, self.data))
        self.log_dir = harness.make_dir(os.path.join(self.work_dir, "portal-logs"))
        extra = ""
        if os.path.exists(shipped_log_conf()):
            extra = "Define APACHE_LOG_DIR %s\nInclude %s\n" % (self.log_dir, shipped_log_conf())
        # Two reset codes to one address follow each other within a test.
        self.apache = self.make_apache(db=self.start_database(), feed=feed,
                                       media_root=media, extra_conf=extra,
                                       directives="NatoMediaResendCooldown 0")
        self.codes_seen = {}

    # --- database, mail, admin ------------------------------------------------------------

    def sql(self, statement, params=()):
        """Rows of a statement on the portal's database (sqlite3 '?' placeholders)."""
        return self.apache.sql(statement, params)

    def subscription_state(self, email):
        rows = self.sql("SELECT state FROM subscriptions WHERE email = ?", (email,))
        return rows[0][0] if rows else None

    def next_code(self, email):
        """The code of the next mail to email that carries one (codes are counted per address)."""
        seen = self.codes_seen.get(email, 0)

        def find():
            with_code = [m for m in self.apache.mail.messages()
                         if email in str(m.get("To", "")) and harness.verification_code(m)]
            return with_code[seen] if len(with_code) > seen else None

        msg = harness.wait_until(find, 30.0, 0.1)
        self.assertIsNotNone(msg, "no code #%d mailed to %s" % (seen + 1, email))
        self.codes_seen[email] = seen + 1
        return harness.verification_code(msg)

    # --- what stands for an account ---------------------------------------------------------

    def verified_subscriber(self, email):
        c = self.apache.client()
        flows.register(self, c, email, PASSWORD)
        flows.submit_code(self, c, email, self.next_code(email))
        self.assertEqual(flows.subscribe(c).status, 200)
        return c

    def reset_grant(self, email):
        """A browser holding a reset grant, earned through the real reset flow."""
        b = self.apache.client()
        r = b.submit("/account/password/reset", {"email": email})
        self.assertEqual(r.status, 303, r.body[:500])
        verify = "/account/password/reset/verify?email=" + urllib.parse.quote(email)
        r = b.submit(verify, {"email": email, "code": self.next_code(email)},
                     action="/account/password/reset/verify")
        self.assertEqual(r.status, 303, r.body[:500])
        self.assertEqual(r.location, "/account/password/new")
        return b

    def unsubscribe_url(self, email):
        flows.admin_ok(self, "newsletter", "send")
        msg = self.apache.mail.wait_for(
            lambda m: email in str(m.get("To", "")) and m.get("List-Unsubscribe"))
        return msg["List-Unsubscribe"][1:-1]

    def trust(self, email):
        c = self.verified_subscriber(email)
        link = flows.download_link(self, c)
        token_url = self.unsubscribe_url(email)
        grant = self.reset_grant(email)  # the last: a later code would not matter, but be plain
        return c, link, grant, token_url

    # --- the checks -------------------------------------------------------------------------

    def assert_alive(self, link, grant, token_url, email):
        anon = harness.Client(self.apache.url())
        r = anon.get(link, headers={"Range": "bytes=0-9"})
        self.assertEqual(r.status, 206, r.body[:300])
        self.assertEqual(r.raw, self.data[:10])
        r = grant.get("/account/password/new")
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertIn('name="password_confirm"', r.body)
        r = anon.get(token_url)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertIn('method="post"', r.body)
        self.assertEqual(self.subscription_state(email), "subscribed")

    def assert_dead(self, link, grant, token_url, email, state_after="subscribed"):
        anon = harness.Client(self.apache.url())
        with self.subTest("signed download link"):
            for headers in ({}, {"Range": "bytes=0-9"}):
                r = anon.get(link, headers=headers)
                self.assertEqual(r.status, 403, r.body[:300])
                self.assertNotIn(self.data[:10], r.raw)
            self.assertIn("This download link is not valid", r.body)
        with self.subTest("reset grant"):
            # No form, and posting a password changes nothing.
            r = grant.get("/account/password/new")
            self.assertEqual((r.status, r.location), (303, "/account/password/reset"),
                             r.body[:300])
            token = harness.csrf_token(grant.get("/account/password/reset").body)
            r = grant.post("/account/password/new",
                           {"csrf_token": token, "password": "Grant-Was-Dead1!",
                            "password_confirm": "Grant-Was-Dead1!"})
            self.assertEqual((r.status, r.location), (303, "/account/password/reset"),
                             r.body[:300])
        with self.subTest("unsubscribe link"):
            # 400 for the page and for RFC 8058 one-click; nothing changes.
            r = anon.get(token_url)
            self.assertEqual(r.status, 400, r.body[:300])
            self.assertNotIn(email, r.body)
            # Where to unsubscribe instead: the account page (sign-in first when needed).
            self.assertIn('id="unsubscribe-from-account" href="/account/"', r.body)
            r = anon.request("POST", token_url, body=b"List-Unsubscribe=One-Click",
                             cookies=False, headers=ONE_CLICK)
            self.assertEqual(r.status, 400, r.body[:300])
            self.assertEqual(self.subscription_state(email), state_after)

    def assert_fresh_link_works(self, client):
        """Links made after the change work: it is the old ones that died, not the account."""
        r = harness.Client(self.apache.url()).get(flows.download_link(self, client),
                                                  headers={"Range": "bytes=0-9"})
        self.assertEqual(r.status, 206, r.body[:300])

    def assert_password_is(self, email, password):
        return flows.signed_in_browser(self, self.apache.client(), email, password)

    # --- the tests --------------------------------------------------------------------------

    def test_password_reset_kills_links_grants_and_unsubscribe_tokens(self):
        email = "reset@example.org"
        _, link, grant, token_url = self.trust(email)
        self.assert_alive(link, grant, token_url, email)
        # The owner resets the password in another browser, the real way.
        other = self.reset_grant(email)
        r = other.submit("/account/password/new",
                         {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertIn("Your password has been updated", r.body)
        self.assert_dead(link, grant, token_url, email)
        self.assert_fresh_link_works(self.assert_password_is(email, NEW_PASSWORD))

    def test_email_change_kills_links_grants_and_unsubscribe_tokens(self):
        email = "moving@example.org"
        c, link, grant, token_url = self.trust(email)
        self.assert_alive(link, grant, token_url, email)
        moved = "moved@example.org"
        r = c.submit("/account/", {"email": moved, "current_password": PASSWORD},
                     action="/account/email")
        self.assertEqual((r.status, r.location), (303, "/account/email/verify"), r.body[:500])
        r = c.submit("/account/email/verify", {"code": self.next_code(moved)})
        self.assertEqual((r.status, r.location), (303, "/account/?done=email"), r.body[:500])
        # The subscription follows the address; the old links die all the same.
        self.assert_dead(link, grant, token_url, moved)
        self.assert_fresh_link_works(c)  # the session outlives an address change

    def test_disable_kills_them_and_enable_does_not_bring_them_back(self):
        email = "disabled@example.org"
        _, link, grant, token_url = self.trust(email)
        self.assert_alive(link, grant, token_url, email)
        self.assertIn("disabled " + email, flows.admin_ok(self, "accounts", "disable", email))
        self.assert_dead(link, grant, token_url, email)
        flows.admin_ok(self, "accounts", "enable", email)
        self.assert_dead(link, grant, token_url, email)
        self.assert_fresh_link_works(self.assert_password_is(email, PASSWORD))

    def test_unsubscribe_links_sent_before_the_upgrade_work_until_trust_changes(self):
        """Newsletters sent by the previous version carry base64url("SUB:EMAIL:SIG"), signed
        for "unsubscribe": made at epoch 0, they work while the account stays at epoch 0."""
        email = "early.reader@example.org"
        self.verified_subscriber(email)
        (sub_id,) = self.sql("SELECT id FROM subscriptions WHERE email = ?", (email,))[0]
        with open(self.apache.secret_file, "rb") as f:
            key = f.read()
        data = "%s:%s" % (sub_id, email)
        mac = hmac.new(hmac.new(key, b"natomedia-sign:unsubscribe", hashlib.sha256).digest(),
                       data.encode(), hashlib.sha256).digest()
        sig = hashlib.sha256(key).hexdigest()[:8] + "." + \
            base64.urlsafe_b64encode(mac).decode().rstrip("=")
        token = base64.urlsafe_b64encode(("%s:%s" % (data, sig)).encode()).decode().rstrip("=")
        old_url = "/newsletter/unsubscribe?token=" + token
        anon = harness.Client(self.apache.url())
        r = anon.get(old_url)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertIn(email, r.body)
        other = self.reset_grant(email)
        r = other.submit("/account/password/new",
                         {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertEqual(anon.get(old_url).status, 400)
        r = anon.request("POST", old_url, body=b"List-Unsubscribe=One-Click", cookies=False,
                         headers=ONE_CLICK)
        self.assertEqual(r.status, 400, r.body[:300])
        self.assertEqual(self.subscription_state(email), "subscribed")

    def test_delete_kills_them(self):
        email = "deleted@example.org"
        _, link, grant, token_url = self.trust(email)
        self.assert_alive(link, grant, token_url, email)
        flows.admin_ok(self, "accounts", "delete", "--yes", email)
        self.assertEqual(self.sql("SELECT id FROM accounts WHERE email = ?", (email,)), [])
        self.assert_dead(link, grant, token_url, email, state_after=None)


@unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class LinksDieSqliteTest(LinksDie, IntegrationTest):
    db_kind = "sqlite"

    def test_unsubscribe_token_does_not_carry_the_address(self):
        email = "private.person@example.org"
        self.verified_subscriber(email)
        url = self.unsubscribe_url(email)
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]
        self.assertRegex(token, r"^[A-Za-z0-9_-]+$")
        decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        for needle in (email, "private.person", "example.org", "@"):
            self.assertNotIn(needle.encode(), decoded)
            self.assertNotIn(needle, token)
        self.assertNotIn(email, url)
        # It still works: the confirm page names the address (from the database).
        r = harness.Client(self.apache.url()).get(url)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertIn(email, r.body)

    def test_shipped_log_configuration_keeps_tokens_out_of_the_access_log(self):
        self.assertTrue(os.path.exists(shipped_log_conf()), shipped_log_conf())
        email = "logged@example.org"
        c, link, grant, token_url = self.trust(email)
        anon = harness.Client(self.apache.url())
        self.assertEqual(anon.get(link, headers={"Range": "bytes=0-9"}).status, 206)
        self.assertEqual(anon.get(token_url).status, 200)
        self.assertEqual(anon.request("POST", token_url, body=b"List-Unsubscribe=One-Click",
                                      cookies=False, headers=ONE_CLICK).status, 200)
        expected = ["/download/", "/newsletter/unsubscribe", "/account/password/reset/verify"]
        portal_log = os.path.join(self.log_dir, "natomedia-access.log")

        def complete():
            text = harness.read_text(portal_log) or ""
            return text if all(p in text for p in expected) else None

        text = harness.wait_until(complete, 10.0, 0.1)
        self.assertTrue(text, harness.read_text(portal_log))
        secrets = [urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["sig"][0],
                   urllib.parse.parse_qs(urllib.parse.urlsplit(token_url).query)["token"][0]]
        for needle in ["sig=", "token=", "expires=", "email=", email,
                       urllib.parse.quote(email)] + secrets:
            self.assertNotIn(needle, text)
        # The signed-in visitor is there, by account number.
        account_id = self.sql("SELECT id FROM accounts WHERE email = ?", (email,))[0][0]
        self.assertIn(' - %s [' % account_id, text)
        # The hazard is real: httpd's usual %r format (the harness's own log) does carry them.
        usual = harness.read_text(self.apache.access_log_path)
        self.assertIn("sig=", usual)
        self.assertIn("token=", usual)


@unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class LinksDiePostgresTest(LinksDie, IntegrationTest):
    db_kind = "pgsql"


if __name__ == "__main__":
    unittest.main()
