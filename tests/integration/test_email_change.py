"""Integration tests of the change of address (CONTRACT section 13, POST /account/email; issue 17).

The whole change through the SMTP sink: the current password (401 and counted by the sign-in
throttle when wrong), a code mailed to the new address, the language switch in the middle, the
change (the credential epoch moves on: the old signed download link and unsubscribe link die),
every other session ended, a notice to the old address, sign-in with the new address only. An
address another account holds gets the same answers (status, page, headers, then 422 x5 and 410
for wrong codes, 429 inside the cooldown) and no change. Under NatoMediaBasePath too.

Real httpd, memcached, SMTP sink; SQLite and PostgreSQL.
"""
# ctest-timeout: 1200

import html
import os
import re
import unittest
import urllib.parse

import harness
import portal_flows as flows
from harness import IntegrationTest

PASSWORD = "Moving-House7!"
ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


def lang_links(body):
    """hreflang -> href of the language switcher."""
    return {m.group(2): html.unescape(m.group(1))
            for m in re.finditer(r'<a href="([^"]*)" lang="[^"]*" hreflang="([^"]*)"', body)}


def normalise(body, *addresses):
    """A page with what legitimately differs between two answers blanked: tokens, addresses."""
    body = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', body)
    for a in addresses:
        body = body.replace(a, "ADDRESS")
    # The cooldown's seconds left depend on when each code went out, a second apart at most.
    return re.sub(r"\d+ seconds", "N seconds", body)


def header_shape(r):
    """The answer's headers without the values that differ by nature (date, cookie values)."""
    out = []
    for name, value in r.headers.items():
        if name.lower() in ("date", "keep-alive", "connection"):
            continue
        if name.lower() == "set-cookie":
            first, _, attrs = value.partition(";")
            cname, _, cvalue = first.partition("=")
            value = "%s=<%d chars>;%s" % (cname, len(cvalue), attrs)
        out.append((name.lower(), value))
    return sorted(out)


class EmailChangeFlows:
    """The tests, written once; the classes at the end choose the database."""

    db_kind = "sqlite"
    base = ""

    def setUp(self):
        super().setUp()
        self.smtp = self.start_smtp()
        media, href, self.data = flows.make_media(self.work_dir)
        feed = flows.write_file(os.path.join(self.work_dir, "feed.xml"),
                                flows.feed_text(href, self.data))
        self.apache = self.make_apache(db=self.start_database(), feed=feed,
                                       media_root=media, smtp=self.smtp,
                                       base_path=self.base or None)
        self.codes_seen = {}

    # --- helpers ------------------------------------------------------------------------------

    def client(self):
        return harness.Client(self.apache.url(self.base))

    def local(self, location):
        """A Location header as a path for client() (the base path taken off, once)."""
        self.assertTrue(location.startswith(self.base + "/"), location)
        return location[len(self.base):]

    def sql(self, statement, params=()):
        return self.apache.sql(statement, params)

    def next_code(self, address):
        seen = self.codes_seen.get(address, 0)

        def find():
            with_code = [m for m in self.smtp.messages()
                         if address in str(m.get("To", "")) and harness.verification_code(m)]
            return with_code[seen] if len(with_code) > seen else None

        msg = harness.wait_until(find, 30.0, 0.1)
        self.assertIsNotNone(msg, "no code #%d mailed to %s" % (seen + 1, address))
        self.codes_seen[address] = seen + 1
        return msg, harness.verification_code(msg)

    def mails_to(self, address, subject=""):
        return [m for m in self.smtp.messages() if address in str(m.get("To", ""))
                and subject.lower() in str(m.get("Subject", "")).lower()]

    def verified(self, address):
        """A verified account made the visitor's way; its browser, signed in."""
        c = self.client()
        flows.register(self, c, address, PASSWORD)
        _, code = self.next_code(address)
        flows.submit_code(self, c, address, code)
        return c

    def signed_in_elsewhere(self, address, password=PASSWORD):
        return flows.signed_in_browser(self, self.client(), address, password)

    def epoch(self, address):
        rows = self.sql("SELECT credential_epoch FROM accounts WHERE email = ?", (address,))
        return int(rows[0][0]) if rows else None

    def ask_change(self, c, new_address, password=PASSWORD):
        return c.submit("/account/", {"email": new_address, "current_password": password},
                        action="/account/email")

    def unsubscribe_url(self, address):
        flows.admin_ok(self, "newsletter", "send")
        msg = harness.wait_until(
            lambda: next((m for m in self.smtp.messages()
                          if address in str(m.get("To", "")) and m.get("List-Unsubscribe")),
                         None), 30.0, 0.1)
        self.assertIsNotNone(msg, "no newsletter to %s" % address)
        return msg["List-Unsubscribe"][1:-1]

    # --- the tests ----------------------------------------------------------------------------

    def test_change_of_address(self):
        old, new = "old.home@example.org", "new.home@example.org"
        c = self.verified(old)
        other = self.signed_in_elsewhere(old)
        self.assertEqual(flows.subscribe(c).status, 200)
        link = flows.download_link(self, c)
        token_url = self.unsubscribe_url(old)
        anon = harness.Client(self.apache.url())
        self.assertEqual(anon.get(link, headers={"Range": "bytes=0-9"}).status, 206)
        self.assertEqual(anon.get(token_url).status, 200)
        epoch = self.epoch(old)

        # The account page has the form, base-relative.
        page = c.get("/account/")
        self.assertEqual(page.status, 200)
        self.assertIn('action="%s/account/email"' % self.base, page.body)
        self.assertIn("Change your email address", page.body)
        self.assertIn('name="current_password"', page.body)

        # No CSRF token: 403, nothing changes. A wrong password: 401. A bad address: 422.
        r = c.post("/account/email", {"email": new, "current_password": PASSWORD})
        self.assertEqual(r.status, 403)
        r = self.ask_change(c, new, password="Wrong-Horse7!x")
        self.assertEqual(r.status, 401, r.body[:500])
        self.assertIn("The current password is not correct.", r.body)
        r = self.ask_change(c, "not an address")
        self.assertEqual(r.status, 422, r.body[:500])
        self.assertIn('id="new_email-error"', r.body)
        r = self.ask_change(c, old)
        self.assertEqual(r.status, 422)
        self.assertIn("This is already the address of your account.", r.body)
        self.assertEqual(self.mails_to(new), [])

        r = self.ask_change(c, new)
        self.assertEqual(r.status, 303, r.body[:500])
        self.assertEqual(r.location, self.base + "/account/email/verify")
        self.assertIn("nm_email_change", c.cookies)
        msg, code = self.next_code(new)
        self.assertIn("verification code", str(msg["Subject"]).lower())
        text = harness.message_text(msg)
        self.assertIn(self.apache.url(self.base + "/account/email/verify"), text)
        if self.base:
            self.assertNotIn(self.base + self.base + "/", text)
        self.assertEqual(self.sql("SELECT email FROM accounts WHERE id = (SELECT id FROM accounts "
                                  "WHERE email = ?)", (old,))[0][0], old)  # not yet

        form = c.get(self.local(r.location))
        self.assertEqual(form.status, 200)
        self.assertIn(new, form.body)
        self.assertIn('action="%s/account/email/verify"' % self.base, form.body)
        self.assertIn('action="%s/account/email/verify/resend"' % self.base, form.body)
        self.assertEqual(form.header("Cache-Control"), "no-store")
        r = c.submit("/account/email/verify", {"code": "000000" if code != "000000" else "111111"})
        self.assertEqual(r.status, 422, r.body[:500])
        # The language switch of that answer stays on the form, with nothing in the URL.
        self.assertEqual(lang_links(r.body).get("fr"),
                         self.base + "/account/email/verify?lang=fr")
        fr = c.get("/account/email/verify?lang=fr")
        self.assertEqual(fr.status, 200)
        self.assertIn(new, fr.body)
        self.assertIn("Nous avons envoyé un code de vérification à", fr.body)
        self.assertIn("Changer mon adresse e-mail", fr.body)
        self.assertNotIn("courriel", fr.body.lower())

        # The right code, typed on the French page: the change.
        r = c.submit("/account/email/verify", {"code": code[:3] + " " + code[3:]})
        self.assertEqual(r.status, 303, r.body[:500])
        self.assertEqual(r.location, self.base + "/account/?done=email")
        self.assertNotIn("nm_email_change", c.cookies)
        page = c.get(self.local(r.location))
        self.assertEqual(page.status, 200)  # this browser stays signed in
        self.assertIn('id="account-notice"', page.body)
        self.assertIn("Votre adresse e-mail a été modifiée.", page.body)
        self.assertIn('<dd id="account-email">%s</dd>' % new, page.body)
        self.assertNotIn("courriel", page.body.lower())
        self.assertFalse(flows.signed_in(other))  # every other session ended
        self.assertEqual(self.epoch(new), epoch + 1)
        self.assertIsNone(self.epoch(old))
        # The newsletter follows the address.
        self.assertEqual(self.sql("SELECT email FROM subscriptions")[0][0], new)

        # The old address is told, in the account's language.
        notice = harness.wait_until(lambda: self.mails_to(old, "Your email address was changed"),
                                    30.0, 0.1)
        self.assertTrue(notice, [(m["To"], m["Subject"]) for m in self.smtp.messages()])
        self.assertIn(new, harness.message_text(notice[0]))

        # Links die with trust: the signed download link and the unsubscribe link of before.
        r = anon.get(link, headers={"Range": "bytes=0-9"})
        self.assertEqual(r.status, 403, r.body[:300])
        self.assertNotIn(self.data[:10], r.raw)
        self.assertEqual(anon.get(token_url).status, 400)
        r = anon.request("POST", token_url, body=b"List-Unsubscribe=One-Click", cookies=False,
                         headers=ONE_CLICK)
        self.assertEqual(r.status, 400)
        self.assertEqual(self.sql("SELECT state FROM subscriptions")[0][0], "subscribed")
        # A link made now works.
        r = anon.get(flows.download_link(self, c), headers={"Range": "bytes=0-9"})
        self.assertEqual(r.status, 206)

        # Sign-in: the new address works, the old one does not.
        self.assertEqual(flows.sign_in(self.client(), old, PASSWORD).status, 401)
        self.assertEqual(flows.sign_in(self.client(), new, PASSWORD).status, 303)

        # The code was used: the form is gone, a replay changes nothing.
        self.assertEqual(c.get("/account/email/verify").status, 303)

    def test_wrong_current_password_is_throttled(self):
        address = "guessed.mail@example.org"
        c = self.verified(address)
        statuses = [self.ask_change(c, "other.place@example.org",
                                    password="Not-The-One9!x").status for _ in range(6)]
        # The sign-in throttle's 5 places of the address: the 6th guess is not checked.
        self.assertEqual(statuses, [401] * 5 + [429], statuses)
        self.assertEqual(flows.sign_in(self.client(), address, PASSWORD).status, 429)
        self.assertEqual(self.mails_to("other.place@example.org"), [])

    def test_taken_address_gets_the_same_answers_and_no_change(self):
        # Two accounts ask at once: one for an address another account holds, one for a free one
        # of the same length, so that pages and headers compare byte for byte.
        taken, free = "taken1@example.org", "fresh1@example.org"
        self.verified(taken)
        a = self.verified("alice1@example.org")
        b = self.verified("carol1@example.org")
        self.assertEqual(len(taken), len(free))

        ra, rb = self.ask_change(a, taken), self.ask_change(b, free)
        self.assertEqual((ra.status, ra.location), (rb.status, rb.location))
        self.assertEqual(ra.status, 303)
        self.assertEqual(header_shape(ra), header_shape(rb))
        pa, pb = a.get(self.local(ra.location)), b.get(self.local(rb.location))
        self.assertEqual(pa.status, 200)
        self.assertEqual(pa.status, pb.status)
        self.assertIn(taken, pa.body)
        self.assertEqual(normalise(pa.body, taken, "alice1@example.org"),
                         normalise(pb.body, free, "carol1@example.org"))
        self.assertEqual(header_shape(pa), header_shape(pb))

        # Wrong codes: 422 up to the 5th, then 410, for both.
        seq_a, seq_b = [], []
        for _ in range(7):
            for c, seq in ((a, seq_a), (b, seq_b)):
                r = c.submit("/account/email/verify", {"code": "000000"})
                seq.append(r.status)
        self.assertEqual(seq_a, seq_b)
        self.assertEqual(seq_a, [422] * 5 + [410, 410], seq_a)
        # The last answers compare too.
        ra = a.submit("/account/email/verify", {"code": "000000"})
        rb = b.submit("/account/email/verify", {"code": "000000"})
        self.assertEqual(normalise(ra.body, taken, "alice1@example.org"),
                         normalise(rb.body, free, "carol1@example.org"))
        # A new code inside the cooldown: 429 with Retry-After, for both.
        ra = a.submit("/account/email/verify", {}, action="/account/email/verify/resend")
        rb = b.submit("/account/email/verify", {}, action="/account/email/verify/resend")
        self.assertEqual((ra.status, rb.status), (429, 429))
        self.assertIsNotNone(ra.header("Retry-After"))
        self.assertIsNotNone(rb.header("Retry-After"))
        self.assertEqual(normalise(ra.body, taken, "alice1@example.org"),
                         normalise(rb.body, free, "carol1@example.org"))

        # Nothing changed, nothing was mailed to the holder of the taken address; the free
        # address got its code.
        self.assertEqual(len(self.sql("SELECT id FROM accounts WHERE email = ?", (taken,))), 1)
        self.assertEqual(len(self.sql("SELECT id FROM accounts WHERE email = ?",
                                      ("alice1@example.org",))), 1)
        self.next_code(free)
        harness.wait_until(lambda: False, 1.0, 0.2)  # let a stray mail arrive, if any
        self.assertEqual(len(self.mails_to(taken)), 1)  # its own verification code, no more

    def test_address_of_a_pending_registration_is_free(self):
        """An address never verified belongs to nobody (CONTRACT section 12): the change takes
        it, and the pending registration goes."""
        pending = "half.done@example.org"
        flows.register(self, self.client(), pending, PASSWORD)
        self.next_code(pending)
        c = self.verified("taker@example.org")
        r = self.ask_change(c, pending)
        self.assertEqual(r.status, 303)
        _, code = self.next_code(pending)
        r = c.submit("/account/email/verify", {"code": code})
        self.assertEqual(r.status, 303, r.body[:500])
        rows = self.sql("SELECT state FROM accounts WHERE email = ?", (pending,))
        self.assertEqual([tuple(row) for row in rows], [("verified",)])
        self.assertEqual(len(self.sql("SELECT id FROM accounts")), 1)

    def test_signed_out_and_no_change_in_progress(self):
        anon = self.client()
        for path in ("/account/email", "/account/email/verify"):
            r = anon.get(path)
            self.assertEqual(r.status, 303, path)
            self.assertIn(self.base + "/account/login?return_to=", r.location)
        c = self.verified("idle.one@example.org")
        r = c.get("/account/email/verify")
        self.assertEqual((r.status, r.location), (303, self.base + "/account/email"))
        en = c.get("/account/email?lang=en")
        self.assertEqual(en.status, 200)
        self.assertIn("Change your email address", en.body)
        fr = c.get("/account/email?lang=fr")
        self.assertIn("Changer d’adresse e-mail", fr.body)
        self.assertIn("Nouvelle adresse e-mail", fr.body)
        self.assertNotIn("courriel", fr.body.lower())
        account_fr = c.get("/account/?lang=fr")
        self.assertIn("Changer d’adresse e-mail", account_fr.body)
        self.assertNotIn("courriel", account_fr.body.lower())

    def test_a_forged_change_cookie_is_no_change_in_progress(self):
        """The nm_email_change cookie is the browser's to send: whatever it holds, a bad one
        is no change in progress (303 back to the address form), never a 500."""
        c = self.verified("forger@example.org")
        address = "QUJD"  # base64url of "ABC"
        for value in ("%s.9999999999999999999.sig" % address,   # expiry past 64 bits
                      "%s.99999999999999999999.sig" % address,  # longer still
                      "%s.12x4.sig" % address, "%s..sig" % address, "%s.4102444800" % address,
                      "!!!.4102444800.sig", "%s.4102444800.%s" % (address, "A" * 43), "..", ""):
            c.cookies["nm_email_change"] = value
            r = c.get("/account/email/verify")
            self.assertEqual((r.status, r.location), (303, self.base + "/account/email"), value)
        self.assertEqual([l for l in self.apache.error_log().splitlines()
                          if "exception" in l.lower() or "uncaught" in l.lower()], [])


EmailChangeSqliteTest, EmailChangePostgresTest = harness.on_each_database(
    EmailChangeFlows, "EmailChange")


class EmailChangeBasePathTest(EmailChangeFlows, IntegrationTest):
    """Everything once more under NatoMediaBasePath /p: forms, redirects, the mailed link."""
    db_kind = "sqlite"
    base = "/p"


# Under the base path, the whole change and the pages; the other rules do not depend on it.
for _name in ("test_wrong_current_password_is_throttled",
              "test_taken_address_gets_the_same_answers_and_no_change",
              "test_address_of_a_pending_registration_is_free"):
    setattr(EmailChangeBasePathTest, _name, None)
del _name


if __name__ == "__main__":
    unittest.main()
