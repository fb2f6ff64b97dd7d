"""Emailed verification codes against real httpd, memcached and an SMTP sink (issue 4,
CONTRACT sections 4-6): the code arrives (SMTP and file transport) and verifies; wrong, dead,
expired, used and raced codes; the resend cooldown; a memcached outage; an SMTP outage during
registration; no code or password in the logs.

The registration step is the authentication plugin's; mail is delivered by the core's sender.
"""
# ctest-timeout: 900

import os
import re
import threading
import time
import unittest
import urllib.parse

import harness
from harness import IntegrationTest, verification_code

PASSWORD = "Tr0ub4dor&3-horse"
# Every plugin by default; NM_TEST_PLUGINS=a,b narrows the set while debugging one of them.
PLUGINS = tuple(filter(None, os.environ.get("NM_TEST_PLUGINS", "").split(","))) or \
    harness.ALL_PLUGINS


def verify_path(email):
    return "/account/verify?email=" + urllib.parse.quote(email)


class VerificationTest(IntegrationTest):

    # ---- helpers --------------------------------------------------------------------------

    def make_apache(self, **kw):
        kw.setdefault("plugins", PLUGINS)
        return super().make_apache(**kw)

    def register(self, apache, email, lang=None):
        client = apache.client()
        path = "/account/register" + ("?lang=" + lang if lang else "")
        r = client.submit(path, {"email": email, "password": PASSWORD,
                                 "password_confirm": PASSWORD}, action="/account/register")
        self.assertEqual(r.status, 303, r.body[:2000])
        self.assertIn("/account/verify?email=", r.location)
        return client

    def mail_for(self, folder, email, after=0, timeout=30):
        return folder.wait_for_to(email, timeout=timeout, after=after)

    def submit_code(self, client, email, code):
        return client.submit(verify_path(email), {"email": email, "code": code},
                             action="/account/verify")

    def resend(self, client, email):
        return client.submit(verify_path(email), {"email": email},
                             action="/account/verify/resend")

    def assert_verified_page(self, r):
        self.assertEqual(r.status, 200, r.body[:2000])
        self.assertIn("You have successfully created your account", r.body)
        self.assertIn("From now on you can download videos from our website", r.body)
        self.assertIn("Subscribe to our newsletter", r.body)
        self.assertIn("If you would also like to subscribe to the newsletter", r.body)
        form = re.search(r'<form[^>]*action="[^"]*/newsletter/subscribe"[^>]*>(.*?)</form>',
                         r.body, re.S)
        self.assertIsNotNone(form, "no newsletter form")
        self.assertIn('name="csrf_token"', form.group(1))

    # ---- the happy paths ------------------------------------------------------------------

    def test_code_through_file_transport_verifies(self):
        apache = self.make_apache()
        email = "ann@example.org"
        client = self.register(apache, email)
        page = client.get(verify_path(email))
        self.assertEqual(page.status, 200)
        self.assertIn("Check your inbox and enter verification code", page.body)
        self.assertIn("This code will expire in 30 minutes", page.body)
        self.assertIn("Didn't receive a code?", page.body)
        self.assertIn("Send new Code", page.body)
        self.assertIn('name="code"', page.body)

        msg = self.mail_for(apache.mail, email)
        self.assertEqual(msg["Subject"], "Your verification code")
        self.assertTrue(msg.is_multipart())
        self.assertEqual({p.get_content_type() for p in msg.walk() if not p.is_multipart()},
                         {"text/plain", "text/html"})
        self.assertIsNotNone(msg["Date"])
        self.assertIsNotNone(msg["Message-ID"])
        text = harness.message_text(msg)
        self.assertIn("This code will expire in 30 minutes", text)
        self.assertIn(apache.public_url + "/account/verify?email=", text)
        code = verification_code(msg)
        self.assertIsNotNone(code, text)

        r = self.submit_code(client, email, code[:3] + " - " + code[3:])
        self.assert_verified_page(r)
        account = client.get("/account/")
        self.assertEqual(account.status, 200, "not signed in after verification")
        self.assertIn(email, account.body)

        # Neither the code nor the password reach the logs.
        logs = apache.error_log() + apache.access_log()
        self.assertNotIn(code, logs)
        self.assertNotIn(code[:3] + " " + code[3:], logs)
        self.assertNotIn(PASSWORD, logs)
        self.assertNotIn(urllib.parse.quote_plus(PASSWORD), logs)

    def test_code_through_smtp_verifies_in_french(self):
        smtp = self.start_smtp()
        apache = self.make_apache(smtp=smtp)
        email = "bea@example.org"
        client = self.register(apache, email, lang="fr")
        msg = self.mail_for(smtp, email)
        self.assertEqual(msg["Subject"], "Votre code de vérification")
        self.assertIn("noreply@example.org", msg["X-Sink-Envelope-From"])
        self.assertIn(email, msg["X-Sink-Envelope-To"])
        self.assertIn("Ce code expirera dans 30 minutes", harness.message_text(msg))
        r = self.submit_code(client, email, verification_code(msg))
        self.assertEqual(r.status, 200, r.body[:2000])
        self.assertIn("Votre compte a bien été créé", r.body)

    # ---- wrong, dead, used ----------------------------------------------------------------

    def test_wrong_codes_then_dead(self):
        apache = self.make_apache()
        email = "cid@example.org"
        client = self.register(apache, email)
        code = verification_code(self.mail_for(apache.mail, email))
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        r = self.submit_code(client, email, wrong)
        self.assertEqual(r.status, 422)
        for _ in range(4):
            self.assertEqual(self.submit_code(client, email, wrong).status, 422)
        r = self.submit_code(client, email, code)
        self.assertEqual(r.status, 410, "the 5th wrong entry must kill the code")
        self.assertIn("/account/verify/resend", r.body)
        self.assertIn("Send new Code", r.body)

    def test_four_wrong_then_right_and_used_twice(self):
        apache = self.make_apache()
        email = "dan@example.org"
        client = self.register(apache, email)
        code = verification_code(self.mail_for(apache.mail, email))
        wrong = "%06d" % ((int(code) + 7) % 1000000)
        for _ in range(4):
            self.assertEqual(self.submit_code(client, email, wrong).status, 422)
        self.assert_verified_page(self.submit_code(client, email, code))
        other = apache.client()
        r = self.submit_code(other, email, code)
        self.assertEqual(r.status, 410)

    def test_unknown_address_is_dead_not_wrong(self):
        apache = self.make_apache()
        r = self.submit_code(apache.client(), "nobody@example.org", "123456")
        self.assertEqual(r.status, 410)

    def test_parallel_right_submissions_one_wins(self):
        apache = self.make_apache()
        email = "eve@example.org"
        client = self.register(apache, email)
        code = verification_code(self.mail_for(apache.mail, email))
        token = harness.csrf_token(client.get(verify_path(email)).body)
        clients = []
        for _ in range(2):
            c = apache.client()
            c.cookies = dict(client.cookies)
            clients.append(c)
        barrier = threading.Barrier(2)
        statuses = []

        def post(c):
            barrier.wait()
            statuses.append(c.post("/account/verify",
                                   {"email": email, "code": code, "csrf_token": token}).status)

        threads = [threading.Thread(target=post, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(statuses), [200, 410])

    def test_expired_code(self):
        apache = self.make_apache(directives="NatoMediaCodeLifetime 30")
        email = "fay@example.org"
        client = self.register(apache, email)
        started = time.time()
        msg = self.mail_for(apache.mail, email)
        self.assertIn("This code will expire in 30 seconds", harness.message_text(msg))
        time.sleep(max(0, started + 32 - time.time()))
        self.assertEqual(self.submit_code(client, email, verification_code(msg)).status, 410)

    # ---- resend ---------------------------------------------------------------------------

    def test_resend_cooldown_then_new_code(self):
        apache = self.make_apache(directives="NatoMediaResendCooldown 4")
        email = "gus@example.org"
        client = self.register(apache, email)
        old = verification_code(self.mail_for(apache.mail, email))
        r = self.resend(client, email)
        self.assertEqual(r.status, 429)
        retry = int(r.header("Retry-After"))
        self.assertTrue(1 <= retry <= 4, retry)
        # An address without an account answers alike.
        stranger = apache.client()
        self.assertEqual(self.resend(stranger, "nobody@example.org").status, 303)
        self.assertEqual(self.resend(stranger, "nobody@example.org").status, 429)

        time.sleep(retry + 0.5)
        r = self.resend(client, email)
        self.assertEqual(r.status, 303, r.body[:1000])
        self.assertTrue(r.location.endswith(verify_path(email)), r.location)
        new = verification_code(self.mail_for(apache.mail, email, after=1))
        if new != old:
            self.assertEqual(self.submit_code(client, email, old).status, 422)
        self.assert_verified_page(self.submit_code(client, email, new))

    # ---- outages --------------------------------------------------------------------------

    def test_memcached_outage_and_return(self):
        memcached = self.start_memcached()
        apache = self.make_apache(memcached=memcached)
        email = "hal@example.org"
        client = self.register(apache, email)
        code = verification_code(self.mail_for(apache.mail, email))
        page = client.get(verify_path(email))
        token = harness.csrf_token(page.body)

        memcached.stop()
        r = client.post("/account/verify", {"email": email, "code": code, "csrf_token": token})
        self.assertEqual(r.status, 503)
        self.assertIn("try again later", r.body)
        self.assertIsNone(r.location)
        r = client.get(verify_path(email))
        self.assertEqual(r.status, 503)
        self.assertIn("try again later", r.body)
        self.assertEqual(client.get("/account/login").status, 200)
        if "media_gateway" in apache.plugins:
            self.assertEqual(client.get("/news/").status, 200)

        memcached.start()  # empty: the old code is gone with it
        deadline = time.time() + 20
        while client.get(verify_path(email)).status != 200 and time.time() < deadline:
            time.sleep(0.5)
        self.assertEqual(self.submit_code(client, email, code).status, 410)
        email2 = "ida@example.org"
        client2 = self.register(apache, email2)
        code2 = verification_code(self.mail_for(apache.mail, email2))
        self.assert_verified_page(self.submit_code(client2, email2, code2))

    def test_smtp_down_during_registration(self):
        smtp = self.start_smtp()
        apache = self.make_apache(smtp=smtp)
        smtp.stop()
        email = "joe@example.org"
        client = self.register(apache, email)
        time.sleep(2)  # the sender tries (and fails) meanwhile
        smtp.start()
        msg = self.mail_for(smtp, email, timeout=90)  # the first retry waits 30 s
        time.sleep(3)
        self.assertEqual(len([m for m in smtp.messages() if email in str(m["To"])]), 1)
        self.assert_verified_page(self.submit_code(client, email, verification_code(msg)))


if __name__ == "__main__":
    unittest.main()
