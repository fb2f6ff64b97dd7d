"""Attack: read someone's private page from a cache (CONTRACT section 12, "Pages that are
private are not cached").

A shared computer's browser cache, or a caching proxy, must never keep an answer that carries a
CSRF token, a session, an email address or a code: every such answer has `Cache-Control:
no-store`. Public pages (news, videos, thumbnails, feeds) keep their caching.

The walk below visits every route in each state (anonymous, mid-registration, mid-reset, signed
in, signed out) and applies the rule to every answer it gets, whatever the route: an answer with a
csrf_token field, a Set-Cookie other than the language's, or one of the visitor's addresses or
codes (in the body or the Location) must say no-store.

Seen before the fix (issue 16): /account/login and /account/register carried no Cache-Control;
news and video pages of a signed-in visitor (their address, the sign-out token, signed links)
were `private, no-cache`.
"""
# ctest-timeout: 600

import os
import unittest
import urllib.parse

import harness
import proof_support as ps
from harness import IntegrationTest

LANG_COOKIES = ("nm_lang", "__Host-nm_lang")


def cookie_names(resp):
    return [line.split("=", 1)[0].strip() for line in resp.headers.get_all("Set-Cookie") or []]


@unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class PrivatePagesTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.apache = ps.start_portal(self, media_size=256 << 10, n_text=3)
        self.secrets = set()  # addresses and codes of the visitors of this test
        self.walked = []      # (what, path, status, private)

    # --- the rule, applied to every answer ---------------------------------------------------

    def carries(self, resp):
        """What private thing the answer carries, or None."""
        if harness.csrf_token(resp.body):
            return "a CSRF token"
        if any(n not in LANG_COOKIES for n in cookie_names(resp)):
            return "a cookie %s" % cookie_names(resp)
        location = urllib.parse.unquote(resp.location or "")
        for s in self.secrets:
            if s in resp.body or s in location:
                return "%r" % s
        return None

    def check(self, what, path, resp):
        why = self.carries(resp)
        control = resp.headers.get_all("Cache-Control") or []
        if why:
            self.assertEqual(control, ["no-store"],
                             "%s %s (%d) carries %s but Cache-Control is %s"
                             % (what, path, resp.status, why, control))
        self.walked.append((what, path, resp.status, bool(why)))
        return resp

    def get(self, client, what, path):
        return self.check(what, "GET " + path, client.get(path))

    def submit(self, client, what, form_path, fields, action=None):
        page = self.get(client, what, form_path)
        data = dict(fields)
        data["csrf_token"] = harness.csrf_token(page.body)
        action = action or form_path.split("?")[0]
        return self.check(what, "POST " + action, client.post(action, data))

    # --- the walk ---------------------------------------------------------------------------

    def test_every_private_answer_is_no_store(self):
        email = "walker@example.org"
        self.secrets.add(email)
        anon = self.apache.client()
        for path in ("/account/login", "/account/register", "/account/password/reset",
                     "/account/verify?email=" + urllib.parse.quote(email),
                     "/account/password/reset/verify?email=" + urllib.parse.quote(email),
                     "/account/login?return_to=/videos/clip", "/account/"):
            self.get(anon, "anonymous", path)
        # Failed forms echo what was typed.
        self.submit(anon, "anonymous", "/account/login", {"email": email,
                                                          "password": "Wrong-Password1!"})
        self.submit(anon, "anonymous", "/account/register", {
            "email": email, "password": ps.PASSWORD, "password_confirm": "Other-Password1!"})
        # Registration, the code, the verification.
        c = self.apache.client()
        r = self.submit(c, "registering", "/account/register", {
            "email": email, "password": ps.PASSWORD, "password_confirm": ps.PASSWORD})
        self.assertEqual(r.status, 303, r.body[:500])
        code = ps.code_for(self.apache, email)
        self.assertTrue(code)
        self.secrets.add(code)
        verify_page = "/account/verify?email=" + urllib.parse.quote(email)
        self.get(c, "registering", verify_page)
        self.submit(c, "registering", verify_page, {"email": email, "code": "000000"},
                    action="/account/verify")
        r = self.submit(c, "registering", verify_page, {"email": email, "code": code},
                        action="/account/verify")
        self.assertEqual(r.status, 200, r.body[:500])
        # Signed in: every page shows the account (and a sign-out form).
        for path in ("/account/", "/news/", "/news/t00", "/videos/", "/videos/clip",
                     "/news/no-such-item", "/videos/clip/thumbnail", "/news/feed.atom"):
            self.get(c, "signed in", path)
        news = c.get("/news/")
        self.assertIn('action="/account/logout"', news.body)  # with its CSRF token
        self.assertEqual(news.headers.get_all("Cache-Control"), ["no-store"])
        video = c.get("/videos/clip")
        self.assertIn("sig=", video.body)
        self.assertEqual(video.headers.get_all("Cache-Control"), ["no-store"])
        self.submit(c, "signed in", "/account/", {}, action="/newsletter/subscribe")
        # A password reset, start to finish.
        reset = self.apache.client()
        self.submit(reset, "resetting", "/account/password/reset", {"email": email})
        code2 = harness.wait_until(
            lambda: (lambda k: k if k and k != code else None)(ps.code_for(self.apache, email)),
            30, 0.2)
        self.assertTrue(code2)
        self.secrets.add(code2)
        rv = "/account/password/reset/verify?email=" + urllib.parse.quote(email)
        r = self.submit(reset, "resetting", rv, {"email": email, "code": code2})
        self.assertEqual(r.status, 303, r.body[:500])
        self.get(reset, "resetting", "/account/password/new")
        self.submit(reset, "resetting", "/account/password/new", {
            "password": "Another-Password8!", "password_confirm": "Another-Password8!"})
        # Sign in again and out.
        back = self.apache.client()
        r = self.submit(back, "signing in", "/account/login", {
            "email": email, "password": "Another-Password8!"})
        self.assertEqual(r.status, 303, r.body[:500])
        # The self-service pages of section 13: each shows the address, a form's token, or
        # the account's data (issue 17 added them after this rule was written).
        other = self.apache.client()  # a second session, for the sessions page to list
        self.submit(other, "signing in", "/account/login", {
            "email": email, "password": "Another-Password8!"})
        new_address = "walker.moved@example.org"
        self.secrets.add(new_address)
        for path in ("/account/password", "/account/sessions", "/account/export",
                     "/account/email", "/account/delete"):
            self.get(back, "self-service", path)
        self.submit(back, "self-service", "/account/password", {
            "current_password": "Wrong-Password1!", "password": "Third-Password9!",
            "password_confirm": "Third-Password9!"})
        self.submit(back, "self-service", "/account/sessions", {},
                    action="/account/sessions/end-others")
        self.submit(back, "self-service", "/account/email", {
            "email": new_address, "current_password": "Another-Password8!"})
        self.get(back, "self-service", "/account/email/verify")
        self.submit(back, "self-service", "/account/email/verify", {"code": "000000"})
        self.submit(back, "self-service", "/account/delete",
                    {"current_password": "Wrong-Password1!"})
        self.submit(back, "signing out", "/account/", {}, action="/account/logout")
        # An erasure, and the page it ends on.
        gone = self.apache.client()
        self.submit(gone, "signing in", "/account/login", {
            "email": email, "password": "Another-Password8!"})
        r = self.submit(gone, "deleting", "/account/delete",
                        {"current_password": "Another-Password8!"})
        self.assertEqual(r.status, 303, r.body[:500])
        self.get(gone, "deleted", "/?done=deleted")

        private = [w for w in self.walked if w[3]]
        self.assertGreaterEqual(len(private), 25, self.walked)
        for path in ("GET /account/password", "GET /account/sessions", "GET /account/export",
                     "GET /account/email", "POST /account/email", "GET /account/email/verify",
                     "POST /account/email/verify", "GET /account/delete", "POST /account/delete"):
            self.assertIn(path, [w[1] for w in private], self.walked)
        for path in ("GET /account/login", "GET /account/register"):
            self.assertIn(path, [w[1] for w in private])

    def test_public_pages_keep_their_caching(self):
        anon = self.apache.client()
        expect = {"/news/": "private, no-cache", "/news/t00": "private, no-cache",
                  "/videos/": "private, no-cache", "/videos/clip": "private, no-cache",
                  "/videos/clip/thumbnail": "public", "/news/feed.atom": "public",
                  "/news/feed.rss": "public"}
        for path, want in expect.items():
            for attempt in ("first visit", "second visit"):
                r = self.check("public", "GET " + path, anon.get(path))
                self.assertEqual(r.status, 200, path)
                control = r.headers.get_all("Cache-Control") or []
                self.assertEqual(len(control), 1, (path, control))
                self.assertIn(want, control[0], (path, attempt))
                self.assertNotIn("no-store", control[0], (path, attempt))
                self.assertEqual(cookie_names(r), [], (path, attempt))
                self.assertIsNone(harness.csrf_token(r.body), path)
        # A visitor who was on a form (and so has the CSRF cookie) still gets cacheable news.
        self.get(anon, "anonymous", "/account/login")
        r = anon.get("/news/")
        self.assertEqual(r.headers.get_all("Cache-Control"), ["private, no-cache"])
        self.assertIsNotNone(r.header("ETag"))


if __name__ == "__main__":
    unittest.main()
