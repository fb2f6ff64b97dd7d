"""The visitor's portal under NatoMediaBasePath, the rough edges of issue 17 and the languages
from the catalogue files (CONTRACT section 13), against real httpd, memcached and SQLite.

- Every flow under NatoMediaBasePath /portal: register (with the way back), verify, sign out,
  sign in from a download with return_to to the video, download, reset the password. No
  Location, link or mail link carries the base path twice, or lacks it.
- Rough edges 1, 3, 4, 5, 6, 13, 14, 15, 18.
- A site that adds natomedia.de.strings gets German in the language switcher, English for the
  strings it lacks.
"""
# ctest-timeout: 900

import glob
import html
import os
import re
import time
import urllib.parse

import harness
import portal_flows as flows
from harness import IntegrationTest

PASSWORD = "Visit0r-portal!checks"
NEW_PASSWORD = "Another-Visit0r!pass"
BASE = "/portal"


def links(body):
    return [html.unescape(m) for m in re.findall(r'href="([^"]*)"', body)]


def lang_links(body):
    """hreflang -> href of the language switcher."""
    return {m.group(2): html.unescape(m.group(1))
            for m in re.finditer(r'<a href="([^"]*)" lang="[^"]*" hreflang="([^"]*)"', body)}


class VisitorTest(IntegrationTest):

    def portal(self, base_path=None, **kw):
        self.media, href, self.data = flows.make_media(self.work_dir)
        feed = flows.write_file(os.path.join(self.work_dir, "feed.xml"),
                                flows.feed_text(href, self.data))
        apache = self.make_apache(feed=feed, media_root=self.media, base_path=base_path, **kw)
        return apache

    def client(self, apache, base=""):
        return harness.Client(apache.url(base))

    def mail_to(self, apache, email, after=0):
        return apache.mail.wait_for_to(email, timeout=30, after=after)

    def html_part(self, msg):
        for part in msg.walk():
            if part.get_content_type() == "text/html":
                return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        self.fail("no HTML part in %s" % msg["Subject"])

    def assert_no_double_base(self, text):
        self.assertNotIn(BASE + BASE, text)

    # --- 1. everything under NatoMediaBasePath ---------------------------------------------

    def test_flows_under_base_path(self):
        apache = self.portal(base_path=BASE)
        c = self.client(apache, BASE)
        video = "/videos/" + flows.VIDEO_ID

        # A visitor without an account asks for a download: sign-in, coming back to the video
        # (base-relative in the query, the base path once in Location).
        r = c.get(flows.download_path())
        self.assertEqual(r.status, 303, r.body[:500])
        self.assertEqual(r.location, BASE + "/account/login?return_to=" +
                         urllib.parse.quote(video, safe=""))
        page = c.get(video)
        self.assertEqual(page.status, 200)
        self.assertIn('href="%s/account/login?return_to=%s"' %
                      (BASE, urllib.parse.quote(video, safe="")), page.body)
        for link in links(page.body):
            if link.startswith("/"):
                self.assertTrue(link.startswith(BASE + "/"), link)
            self.assert_no_double_base(link)

        # "Create an account" from that sign-in page keeps the way back through verification.
        login = c.get(apache.url(r.location))
        self.assertEqual(login.status, 200)
        register_link = [l for l in links(login.body) if "/account/register" in l]
        expected = BASE + "/account/register?return_to=" + urllib.parse.quote(video, safe="")
        self.assertIn(expected, register_link)  # the form's link (the header has a plain one)
        email = "base.path@example.org"
        reg = c.submit(expected.replace(BASE, "", 1),
                       {"email": email, "password": PASSWORD, "password_confirm": PASSWORD,
                        "return_to": video}, action="/account/register")
        self.assertEqual(reg.status, 303, reg.body[:800])
        self.assertTrue(reg.location.startswith(BASE + "/account/verify?email="), reg.location)
        self.assertIn("return_to=" + urllib.parse.quote(video, safe=""), reg.location)
        msg = self.mail_to(apache, email)
        code = harness.verification_code(msg)
        mail_html = self.html_part(msg)
        self.assertIn(apache.url(BASE + "/account/verify?email="), mail_html)
        self.assert_no_double_base(mail_html)
        form = c.get(apache.url(reg.location))
        self.assertIn('name="return_to" value="%s"' % video, form.body)
        done = c.post("/account/verify", {"email": email, "code": code, "return_to": video,
                                          "csrf_token": harness.csrf_token(form.body)})
        self.assertEqual(done.status, 200, done.body[:800])
        self.assertIn('href="%s%s"' % (BASE, video), done.body)  # continue where you left off
        self.assertTrue(flows.signed_in(c))

        # Sign out: the way out is the base path's home, not "/portal/" twice nor "/".
        token = harness.csrf_token(c.get("/account/").body)
        out = c.post("/account/logout", {"csrf_token": token})
        self.assertEqual(out.status, 303)
        self.assertEqual(out.location, BASE + "/")
        self.assertFalse(flows.signed_in(c))

        # Sign in from the download's sign-in page: back to the video, then the download.
        r = c.get(flows.download_path())
        login = c.get(apache.url(r.location))
        back = c.post("/account/login", {"email": email, "password": PASSWORD,
                                         "return_to": video,
                                         "csrf_token": harness.csrf_token(login.body)})
        self.assertEqual(back.status, 303, back.body[:500])
        self.assertEqual(back.location, BASE + video)
        self.assertEqual(c.get(apache.url(back.location)).status, 200)
        got = c.get(flows.download_path())
        self.assertEqual(got.status, 200, got.body[:300] if got.status != 200 else "")
        self.assertEqual(got.raw, self.data)

        # Reset the password from another browser: every step stays under the base path.
        other = self.client(apache, BASE)
        sent = other.submit("/account/password/reset", {"email": email, "return_to": video})
        self.assertEqual(sent.status, 303, sent.body[:500])
        self.assertTrue(sent.location.startswith(BASE + "/account/password/reset/verify?"),
                        sent.location)
        reset_msg = self.mail_to(apache, email, after=1)
        reset_code = harness.verification_code(reset_msg)
        self.assertIn(apache.url(BASE + "/account/password/reset/verify?email="),
                      self.html_part(reset_msg))
        page = other.get(apache.url(sent.location))
        self.assertEqual(page.status, 200)
        grant = other.post("/account/password/reset/verify",
                           {"email": email, "code": reset_code, "return_to": video,
                            "csrf_token": harness.csrf_token(page.body)})
        self.assertEqual(grant.status, 303, grant.body[:500])
        self.assertEqual(grant.location, BASE + "/account/password/new")
        form = other.get("/account/password/new")
        new = other.post("/account/password/new",
                         {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
                          "csrf_token": harness.csrf_token(form.body)})
        self.assertEqual(new.status, 200, new.body[:800])
        self.assertIn('href="%s/account/login?return_to=%s"' %
                      (BASE, urllib.parse.quote(video, safe="")), new.body)
        for link in links(new.body):
            self.assert_no_double_base(link)

    def test_section13_routes_under_base_path(self):
        """Every route of CONTRACT section 13 under NatoMediaBasePath /portal: the home page, the
        player and its preview, search, the feeds' absolute links, and self-service (password,
        sessions, end-others, export, delete), each Location and link carrying the base once."""
        import json
        import xml.etree.ElementTree as ET
        apache = self.portal(base_path=BASE)
        c = self.client(apache, BASE)
        video = "/videos/" + flows.VIDEO_ID
        home = c.get("/")
        self.assertEqual(home.status, 200)
        self.assertIn('href="%s%s"' % (BASE, video), home.body)
        page = c.get(video).body
        self.assertIn('<source src="%s%s/preview" type="video/mp4">' % (BASE, video), page)
        preview = c.get(video + "/preview")
        self.assertEqual(preview.status, 200)
        self.assertEqual(preview.raw, self.data)
        self.assertEqual(preview.header("Content-Disposition"), "inline")
        part = c.get(video + "/preview", headers={"Range": "bytes=5-14"})
        self.assertEqual((part.status, part.raw), (206, self.data[5:15]))
        found = c.get("/news/?q=OPERATIONS")
        self.assertEqual(found.status, 200)
        self.assertIn('href="%s%s"' % (BASE, video), found.body)
        self.assertNotIn('href="%s%s"' % (BASE, video), c.get("/news/?q=nothing-like-it").body)
        self.assertIn('<link rel="alternate" type="application/atom+xml" href="%s/news/feed.atom"'
                      % BASE, found.body)
        for link in links(found.body):
            if link.startswith("/"):
                self.assertTrue(link.startswith(BASE + "/"), link)
        atom = ET.fromstring(c.get("/news/feed.atom").raw)
        ns = "{http://www.w3.org/2005/Atom}"
        entry = atom.find(ns + "entry").find(ns + "link").get("href")
        self.assertTrue(entry.startswith("http"), entry)
        self.assertTrue(entry.endswith(BASE + video), entry)
        self.assert_no_double_base(entry)
        item = ET.fromstring(c.get("/news/feed.rss").raw).find("channel/item")
        content = item.find("{http://search.yahoo.com/mrss/}content").get("url")
        self.assertTrue(content.endswith(BASE + video + "/preview"), content)

        # Self-service under the base path.
        email = "section13.base@example.org"
        flows.register(self, c, email, PASSWORD)
        flows.submit_code(self, c, email, flows.code_from(apache.mail, email))
        # The newsletter's mail: its unsubscribe link (body and List-Unsubscribe) under the base.
        self.assertEqual(flows.subscribe(c).status, 200)
        welcome = self.mail_to(apache, email, after=1)
        unsubscribe = apache.url(BASE + "/newsletter/unsubscribe?token=")
        self.assertIn(unsubscribe, self.html_part(welcome), welcome["Subject"])
        token_url = html.unescape(re.search(r'"(%s[^"]+)"' % re.escape(unsubscribe),
                                            self.html_part(welcome)).group(1))
        self.assertEqual(harness.Client(apache.url()).get(
            token_url[len(apache.url()):]).status, 200)
        other = self.client(apache, BASE)
        r = flows.sign_in(other, email, PASSWORD)
        self.assertEqual((r.status, r.location), (303, BASE + "/account/"))
        r = c.submit("/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                           "password_confirm": NEW_PASSWORD})
        self.assertEqual((r.status, r.location), (303, BASE + "/account/?done=password"))
        self.assertFalse(flows.signed_in(other))
        self.assertEqual(flows.sign_in(other, email, NEW_PASSWORD).status, 303)
        sessions = c.get("/account/sessions")
        self.assertEqual(sessions.status, 200)
        self.assertIn('action="%s/account/sessions/end-others"' % BASE, sessions.body)
        r = c.submit("/account/sessions", {}, action="/account/sessions/end-others")
        self.assertEqual((r.status, r.location), (303, BASE + "/account/?done=sessions"))
        self.assertFalse(flows.signed_in(other))
        export = c.get("/account/export")
        self.assertEqual(export.status, 200)
        self.assertTrue(export.header("Content-Disposition").startswith("attachment"))
        self.assertEqual(json.loads(export.raw)["authentication"]["account"]["email"], email)
        account = c.get("/account/").body
        for path in ("/account/password", "/account/sessions", "/account/export",
                     "/account/delete"):
            self.assertIn('href="%s%s"' % (BASE, path), account)
        harness.wait_until(lambda: len([m for m in apache.mail.messages()
                                         if email in str(m.get("To", ""))]) >= 3, 20, 0.1)
        mails_before = [m for m in apache.mail.messages() if email in str(m.get("To", ""))]
        r = c.submit("/account/delete", {"current_password": NEW_PASSWORD})
        self.assertEqual((r.status, r.location), (303, BASE + "/?done=deleted"))
        self.assertFalse(flows.signed_in(c))
        # Every link of every mail (code, welcome, password changed, goodbye) under the base. (The
        # erasure drops what was still queued for the address: the goodbye mail is read after.)
        harness.wait_until(lambda: [m for m in apache.mail.messages()
                                    if "has been deleted" in str(m.get("Subject", ""))], 20, 0.1)
        self.assert_mail_links_under_base(apache, email, mails_before + [
            m for m in apache.mail.messages() if "has been deleted" in str(m.get("Subject", ""))])

    def assert_mail_links_under_base(self, apache, email, mails):
        subjects = sorted(str(m["Subject"]) for m in mails)
        self.assertEqual(len(mails), 4, subjects)
        for m in mails:
            self.assertIn(email, str(m["To"]))
            for part in m.walk():
                if part.get_content_maintype() != "text":
                    continue
                text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
                for url in re.findall(r"https?://[^\s\"'<>]+", text):
                    if url.startswith(apache.url()):
                        self.assertTrue(url.startswith(apache.url(BASE + "/")),
                                        (m["Subject"], url))
                    self.assert_no_double_base(url)

    # --- 2. rough edges -----------------------------------------------------------------------

    def register(self, c, email, return_to=None):
        fields = {"email": email, "password": PASSWORD, "password_confirm": PASSWORD}
        if return_to:
            fields["return_to"] = return_to
        r = c.submit("/account/register", fields)
        self.assertEqual(r.status, 303, r.body[:800])
        return r

    def test_verify_page_edges(self):
        apache = self.portal()
        c = self.client(apache)
        email = "edges@example.org"
        self.register(c, email)
        msg = self.mail_to(apache, email)
        code = harness.verification_code(msg)

        # 14: the mail's HTML shows the link after "Enter the code on this page:".
        mail_html = self.html_part(msg)
        m = re.search(r"Enter the code on this page:\s*<a [^>]*>([^<]+)</a>", mail_html)
        self.assertIsNotNone(m, mail_html)
        self.assertIn("/account/verify?email=", m.group(1))

        # 13: without an address the page asks for one and says no code was sent.
        bare = c.get("/account/verify")
        self.assertEqual(bare.status, 200)
        self.assertNotIn("We have sent a verification code", bare.body)
        self.assertIn('type="email"', bare.body)
        self.assertIn("Enter the email address you registered with", bare.body)

        # 6: a wrong code: "Error: " title, an error summary that takes the focus.
        form = c.get(flows.verify_path(email))
        token = harness.csrf_token(form.body)
        wrong = c.post("/account/verify", {"email": email, "code": "000000" if code != "000000"
                                           else "111111", "csrf_token": token})
        self.assertEqual(wrong.status, 422)
        self.assertRegex(wrong.body, r"<title>Error: ")
        self.assertRegex(wrong.body, r'<div class="error-summary"[^>]*autofocus')
        self.assertNotIn('class="error-summary"', form.body)
        self.assertNotIn("<title>Error", form.body)

        # 1: the language switch of that POST answer keeps the address.
        switch = lang_links(wrong.body)["fr"]
        self.assertIn("email=" + urllib.parse.quote(email, safe=""), switch)
        fr = c.get(switch)
        self.assertEqual(fr.status, 200)
        self.assertIn('lang="fr"', fr.body)
        self.assertIn('name="email" value="%s"' % email, fr.body)

        # 5: resending too soon says how many seconds to wait.
        soon = c.post("/account/verify/resend",
                      {"email": email, "csrf_token": harness.csrf_token(fr.body)})
        self.assertEqual(soon.status, 429)
        wait = int(soon.headers.get("Retry-After"))
        self.assertIn("Veuillez patienter %d secondes" % wait, soon.body)

        # 1: the success page's switch shows the success page, not the code form.
        ok = c.post("/account/verify", {"email": email, "code": code,
                                        "csrf_token": harness.csrf_token(fr.body)})
        self.assertEqual(ok.status, 200, ok.body[:800])
        switch = lang_links(ok.body)["en"]
        self.assertTrue(switch.startswith("/account/verified?"), switch)
        again = c.get(switch)
        self.assertEqual(again.status, 200)
        self.assertIn("You have successfully created your account", again.body)
        self.assertNotIn('name="code"', again.body)
        # Nobody else sees it.
        self.assertEqual(self.client(apache).get("/account/verified").status, 303)

        # 15: subscribing to the newsletter sends a confirmation.
        sub = flows.subscribe(c)
        self.assertEqual(sub.status, 200, sub.body[:500])
        confirm = self.mail_to(apache, email, after=1)
        self.assertIn("newsletter", confirm["Subject"].lower())
        text = harness.message_text(confirm)
        self.assertIn("/newsletter/unsubscribe?token=", text)
        self.assertIn(email, text)

    def test_register_keeps_return_to_and_reset_text(self):
        apache = self.portal()
        c = self.client(apache)
        video = "/videos/" + flows.VIDEO_ID
        # 3: "Create an account" from the sign-in page keeps return_to, through verification.
        login = c.get("/account/login?return_to=" + urllib.parse.quote(video, safe=""))
        self.assertIn('href="/account/register?return_to=%s"' %
                      urllib.parse.quote(video, safe=""), login.body)
        page = c.get("/account/register?return_to=" + urllib.parse.quote(video, safe=""))
        self.assertIn('name="return_to" value="%s"' % video, page.body)
        email = "return.to@example.org"
        r = c.post("/account/register", {"email": email, "password": PASSWORD,
                                          "password_confirm": PASSWORD, "return_to": video,
                                          "csrf_token": harness.csrf_token(page.body)})
        self.assertEqual(r.status, 303)
        self.assertIn("return_to=" + urllib.parse.quote(video, safe=""), r.location)
        code = harness.verification_code(self.mail_to(apache, email))
        form = c.get(r.location)
        done = c.post("/account/verify", {"email": email, "code": code, "return_to": video,
                                          "csrf_token": harness.csrf_token(form.body)})
        self.assertEqual(done.status, 200)
        self.assertIn('href="%s"' % video, done.body)
        self.assertIn("Continue where you left off", done.body)
        # An outside return_to is never offered.
        evil = c.get("/account/register?return_to=%2F%2Fevil.example")
        self.assertIn('name="return_to" value="/"', evil.body)

        # 4: the reset-code page speaks of a new password, not of verifying an account.
        other = self.client(apache)
        sent = other.submit("/account/password/reset", {"email": email})
        page = other.get(sent.location)
        self.assertIn("choose a new password", page.body)
        self.assertNotIn("Enter the code to verify your account", page.body)
        # 1, for the reset code too: a refused code's language switch keeps the address.
        wrong = other.post("/account/password/reset/verify",
                           {"email": email, "code": "000000",
                            "csrf_token": harness.csrf_token(page.body)})
        self.assertIn(wrong.status, (410, 422))
        switch = lang_links(wrong.body)["fr"]
        self.assertTrue(switch.startswith("/account/password/reset/verify?"), switch)
        self.assertIn("email=" + urllib.parse.quote(email, safe=""), switch)

    def test_french_says_e_mail(self):
        # 18: one word for e-mail in French, the existing majority's.
        src = os.environ.get("NM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
        files = glob.glob(os.path.join(src, "plugins/*/i18n/*.fr.strings")) + \
            glob.glob(os.path.join(src, "share/i18n/*.fr.strings"))
        self.assertTrue(files)
        for path in files:
            with open(path, encoding="utf-8") as f:
                self.assertNotIn("courriel", f.read().lower(), path)

    # --- 3. languages from the catalogue files --------------------------------------------

    def test_german_from_a_catalogue_file(self):
        site = harness.make_dir(os.path.join(self.work_dir, "site"))
        i18n = harness.make_dir(os.path.join(site, "i18n"))
        flows.write_file(os.path.join(i18n, "natomedia.de.strings"),
                         "# A site's German\nlang.name = Deutsch\n"
                         "auth.login.title = Anmelden\n")
        apache = self.portal(directives="NatoMediaTemplates %s" % site)
        c = self.client(apache)
        en = c.get("/account/login")
        switch = lang_links(en.body)
        self.assertEqual(sorted(switch), ["de", "fr"])
        self.assertIn(">Deutsch</a>", en.body)
        de = c.get(switch["de"])
        self.assertEqual(de.status, 200)
        self.assertIn('<html lang="de">', de.body)
        self.assertIn("Anmelden", de.body)
        self.assertIn("Password", de.body)  # English where German has no string
        self.assertEqual(sorted(lang_links(de.body)), ["en", "fr"])
        # Accept-Language picks it too; a language without a file does not.
        self.assertIn('<html lang="de">', c.request("GET", "/account/login", headers={
            "Accept-Language": "de-DE,de;q=0.9"}, cookies=False).body)
        self.assertIn('<html lang="en">', c.request("GET", "/account/login", headers={
            "Accept-Language": "it"}, cookies=False).body)
        # A portal without that file has English and French only.
        plain = self.make_apache(name="plain")
        body = plain.client().get("/account/login").body
        self.assertEqual(sorted(lang_links(body)), ["fr"])


if __name__ == "__main__":
    import unittest
    unittest.main()
