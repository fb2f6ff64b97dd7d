"""The newsletter (CONTRACT section 4, Newsletter; section 10, natomedia-admin): subscribing with a
recorded consent, the export, issues through the real mail path, RFC 8058 one-click unsubscribe.

Accounts are made the way a visitor makes them: register, read the code from the mail, verify.
Issues are sent with the installed natomedia-admin reading the same httpd.conf.
"""
# ctest-timeout: 900

import csv
import io
import os
import pwd
import re
import subprocess
import time
import urllib.parse

import harness
from harness import IntegrationTest

PLUGINS = ("authentication", "verification", "newsletter")
PASSWORD = "Correct-Horse-9-battery"
OFFER_TEXT = ("If you would also like to subscribe to the newsletter and receive our latest "
              "updates, click on the button below.")


def feed_item(item_id, first_created, headline_en, headline_fr=None, summary_en=None,
              video_icon=None):
    """One newsItem of the section 8 profile."""
    texts = '<headline xml:lang="en">%s</headline>' % headline_en
    if headline_fr:
        texts += '<headline xml:lang="fr">%s</headline>' % headline_fr
    if summary_en:
        texts += '<description role="descrole:summary" xml:lang="en">%s</description>' % summary_en
    icon = ('<icon rendition="rnd:thumbnail" href="%s" contenttype="image/jpeg"/>' % video_icon
            if video_icon else "")
    return """
    <newsItem guid="urn:natomedia:%s" version="1" standard="NewsML-G2" standardversion="2.36"
              xml:lang="en">
      <itemMeta>
        <itemClass qcode="%s"/>
        <provider literal="NATO"/>
        <versionCreated>%s</versionCreated>
        <firstCreated>%s</firstCreated>
        <pubStatus qcode="stat:usable"/>
      </itemMeta>
      <contentMeta>%s%s</contentMeta>
    </newsItem>""" % (item_id, "ninat:video" if video_icon else "ninat:text", first_created,
                      first_created, icon, texts)


def write_feed(path, items):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/" '
                'xmlns:nm="urn:natomedia:feed:1">\n'
                '  <header><sent>2023-07-06T18:00:00Z</sent></header>\n'
                '  <itemSet>%s\n  </itemSet>\n</newsMessage>\n' % "".join(items))
    os.chmod(path + ".tmp", 0o644)
    os.replace(path + ".tmp", path)


# Twelve items: the first issue carries the ten newest (item-03 .. item-12).
FIRST_ITEMS = [feed_item("item-%02d" % n, "2023-07-%02dT10:00:00Z" % n, "Headline %d" % n,
                         "Titre %d" % n, "Summary %d" % n) for n in range(1, 12)]
FIRST_ITEMS.append(feed_item("video-12", "2023-07-12T10:00:00Z", "Sweden joins", "La Suède adhère",
                             "Summary of the video", video_icon="613342/thumb.jpg"))
LATER_ITEM = feed_item("item-13", "2023-07-13T10:00:00Z", "Later news", "Nouvelle ultérieure")


def newsletter_mails(messages, address):
    return [m for m in messages
            if address.lower() in str(m.get("To", "")).lower() and m.get("List-Unsubscribe")]


def html_part(msg):
    for part in msg.walk():
        if part.get_content_type() == "text/html" and not part.is_multipart():
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


class NewsletterTest(IntegrationTest):
    db = "sqlite"

    def setUp(self):
        super().setUp()
        self.feed = os.path.join(self.work_dir, "feed.xml")
        write_feed(self.feed, FIRST_ITEMS)
        self.apache = self.make_apache(plugins=PLUGINS, feed=self.feed, db=self.database())

    def database(self):
        return "sqlite"

    # --- helpers ------------------------------------------------------------------------------

    def admin(self, *args, expect=0):
        """Runs the installed natomedia-admin on this server's httpd.conf (as the run user)."""
        cmd = [os.path.join(self.prefix, "bin/natomedia-admin"), "--config",
               self.apache.conf_path, "--share-dir", os.path.join(self.prefix, "share/natomedia"),
               *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", harness.RUN_USER, "--"] + cmd
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                             cwd=self.work_dir)
        if expect is not None:
            self.assertEqual(res.returncode, expect,
                             "natomedia-admin %s: %s%s" % (" ".join(args), res.stdout, res.stderr))
        return res

    def export(self):
        out = self.admin("subscribers", "export").stdout
        self.assertTrue(out.startswith("address,language,subscribed_at,consent_version,state"),
                        out[:200])
        return {row["address"]: row for row in csv.DictReader(io.StringIO(out, newline=""))}

    def queued_count(self):
        """Messages in the outbox, whatever their state, from `natomedia-admin outbox status`."""
        out = self.admin("outbox", "status").stdout
        return sum(int(m.group(1)) for m in re.finditer(r"^\S+\t(\d+)$", out, re.M))

    def verified_account(self, email, lang="en"):
        """A signed-in client of a new, verified account (register, code from the mail, verify)."""
        c = self.apache.client()
        suffix = "?lang=fr" if lang == "fr" else ""
        r = c.submit("/account/register" + suffix,
                     {"email": email, "password": PASSWORD, "password_confirm": PASSWORD},
                     action="/account/register")
        self.assertEqual(r.status, 303, r.body[:500])
        code = harness.verification_code(self.apache.mail.wait_for_to(email))
        self.assertIsNotNone(code)
        verify_path = "/account/verify?email=" + urllib.parse.quote(email)
        r = c.submit(verify_path, {"email": email, "code": code}, action="/account/verify")
        self.assertEqual(r.status, 200, r.body[:500])
        self.verified_page = r
        return c

    def subscribe(self, client, source="verification", page="/account/"):
        token = harness.csrf_token(client.get(page).body)
        return client.post("/newsletter/subscribe", {"csrf_token": token, "source": source})

    # --- tests --------------------------------------------------------------------------------

    def test_subscribe_needs_a_verified_signed_in_account_and_records_consent(self):
        # Anonymous: sent to sign in, then back to the account page.
        anon = self.apache.client()
        token = harness.csrf_token(anon.get("/account/login").body)
        r = anon.post("/newsletter/subscribe", {"csrf_token": token, "source": "verification"})
        self.assertEqual(r.status, 303)
        self.assertEqual(r.location, "/account/login?return_to=%2Faccount%2F")

        # Pending (registered, never verified): cannot subscribe.
        pending = self.apache.client()
        r = pending.submit("/account/register", {"email": "pending@example.org",
                                                 "password": PASSWORD,
                                                 "password_confirm": PASSWORD})
        self.assertEqual(r.status, 303)
        r = self.subscribe(pending, page="/account/login")
        self.assertIn(r.status, (303, 403), r.body[:300])

        # Verified: the offer (an explicit button) is on the success page; subscribing works.
        c = self.verified_account("ann@example.org", lang="en")
        self.assertIn(OFFER_TEXT, self.verified_page.body)
        self.assertIn('action="/newsletter/subscribe"', self.verified_page.body)
        self.assertNotIn("checked", self.verified_page.body)
        token = harness.csrf_token(self.verified_page.body)
        r = c.post("/newsletter/subscribe", {"csrf_token": token, "source": "verification"},
                   headers={"User-Agent": "NewsletterTest/1.0"})
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertIn("ann@example.org", r.body)
        self.assertIn("subscribed", r.body)

        # Without the CSRF token nothing happens.
        other = self.verified_account("bob@example.org")
        r = other.post("/newsletter/subscribe", {"source": "account"})
        self.assertEqual(r.status, 403)

        rows = self.export()
        self.assertEqual(set(rows), {"ann@example.org"})
        ann = rows["ann@example.org"]
        self.assertEqual(ann["state"], "subscribed")
        self.assertEqual(ann["language"], "en")
        self.assertEqual(ann["consent_version"], "newsletter-offer-1")
        self.assertEqual(ann["consent_source"], "verification")
        self.assertEqual(ann["consent_ip"], "127.0.0.1")
        self.assertEqual(ann["consent_user_agent"], "NewsletterTest/1.0")
        self.assertRegex(ann["subscribed_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(ann["consent_given_at"], ann["subscribed_at"])

        # The account page form: unsubscribe, then subscribe again (a new consent).
        r = c.post("/newsletter/unsubscribe-account",
                   {"csrf_token": harness.csrf_token(c.get("/account/").body)})
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertEqual(self.export()["ann@example.org"]["state"], "unsubscribed")
        self.assertNotEqual(self.export()["ann@example.org"]["unsubscribed_at"], "")
        time.sleep(1.1)  # a later second, so the new consent is told apart
        r = self.subscribe(c, source="account")
        self.assertEqual(r.status, 200, r.body[:500])
        again = self.export()["ann@example.org"]
        self.assertEqual(again["state"], "subscribed")
        self.assertEqual(again["unsubscribed_at"], "")
        self.assertEqual(again["consent_source"], "account")
        self.assertGreater(again["consent_given_at"], ann["consent_given_at"])

    def test_french_pages(self):
        c = self.verified_account("claire@example.org", lang="fr")
        token = harness.csrf_token(self.verified_page.body)
        r = c.post("/newsletter/subscribe", {"csrf_token": token, "source": "verification"})
        self.assertEqual(r.status, 200)
        self.assertIn('lang="fr"', r.body)
        self.assertIn("abonnement", r.body)
        self.assertEqual(self.export()["claire@example.org"]["language"], "fr")

    def test_issues_reach_each_subscriber_once_and_one_click_unsubscribes(self):
        ann = self.verified_account("ann@example.org")
        self.assertEqual(self.subscribe(ann).status, 200)
        bea = self.verified_account("bea@example.org", lang="fr")
        self.assertEqual(self.subscribe(bea, page="/account/?lang=fr").status, 200)
        self.verified_account("carl@example.org")  # verified but never subscribed

        # --dry-run says what would go and queues nothing.
        before = self.queued_count()
        out = self.admin("newsletter", "send", "--dry-run").stdout
        self.assertIn("10 item(s)", out)
        self.assertIn("ann@example.org", out)
        self.assertIn("bea@example.org", out)
        self.assertNotIn("carl@example.org", out)
        self.assertEqual(self.queued_count(), before)

        out = self.admin("newsletter", "send").stdout
        self.assertIn("queued 2 message(s)", out)
        mail = self.apache.mail
        ann_mail = mail.wait_for(lambda m: newsletter_mails([m], "ann@example.org"))
        bea_mail = mail.wait_for(lambda m: newsletter_mails([m], "bea@example.org"))
        for msg in (ann_mail, bea_mail):
            self.assertEqual(msg["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")
            self.assertRegex(msg["List-Unsubscribe"],
                             r"^<%s/newsletter/unsubscribe\?token=[A-Za-z0-9_-]+>$"
                             % re.escape(self.apache.public_url))
            url = msg["List-Unsubscribe"][1:-1]
            self.assertIn(url, harness.message_text(msg))      # a visible link, text part
            self.assertIn(url.replace("&", "&amp;"), html_part(msg))  # and HTML part
        text_en = harness.message_text(ann_mail)
        self.assertIn("Headline 11", text_en)
        self.assertIn("Sweden joins", text_en)
        self.assertIn("Headline 3", text_en)
        self.assertNotRegex(text_en, r"Headline [12]\b")  # only the ten newest
        self.assertIn(self.apache.public_url + "/news/item-11", text_en)
        self.assertIn(self.apache.public_url + "/videos/video-12/thumbnail", text_en)
        self.assertIn('src="%s/videos/video-12/thumbnail"' % self.apache.public_url,
                      html_part(ann_mail))
        self.assertEqual(ann_mail["Subject"], "NATO Multimedia newsletter: Sweden joins")
        self.assertIn("La Suède adhère", bea_mail["Subject"])
        text_fr = harness.message_text(bea_mail)
        self.assertIn("La Suède adhère", text_fr)
        self.assertIn("Titre 11", text_fr)
        self.assertEqual(bea_mail["Content-Language"], "fr")

        # Sending again sends nothing.
        queued = self.queued_count()
        out = self.admin("newsletter", "send").stdout
        self.assertIn("nothing to send", out)
        self.assertEqual(self.queued_count(), queued)

        # A GET of the link shows a confirm button and changes nothing.
        url = ann_mail["List-Unsubscribe"][1:-1]
        stranger = harness.Client(self.apache.url())
        r = stranger.get(url)
        self.assertEqual(r.status, 200)
        self.assertIn("ann@example.org", r.body)
        self.assertIn('method="post"', r.body)
        self.assertEqual(self.export()["ann@example.org"]["state"], "subscribed")

        # A tampered token: 400, for GET and POST, and nothing changes.
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]
        tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
        path = "/newsletter/unsubscribe?token=" + tampered
        dead = stranger.get(path)
        self.assertEqual(dead.status, 400)
        # A dead link is not a form: no "There is a problem" error summary (issue 17).
        self.assertNotIn('class="error-summary"', dead.body)
        r = stranger.request("POST", path, body=b"List-Unsubscribe=One-Click", cookies=False,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 400)
        self.assertEqual(self.export()["ann@example.org"]["state"], "subscribed")

        # RFC 8058 one-click, as a mail provider sends it: no cookie, no CSRF token.
        one_click = harness.Client(self.apache.url())
        r = one_click.request("POST", url, body=b"List-Unsubscribe=One-Click", cookies=False,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200, r.body[:300])
        rows = self.export()
        self.assertEqual(rows["ann@example.org"]["state"], "unsubscribed")
        self.assertEqual(rows["bea@example.org"]["state"], "subscribed")
        # Again: still fine (idempotent).
        r = one_click.request("POST", url, body=b"List-Unsubscribe=One-Click", cookies=False,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200)

        # The next issue (a new item) reaches Bea only.
        write_feed(self.feed, FIRST_ITEMS + [LATER_ITEM])
        out = self.admin("newsletter", "send").stdout
        self.assertIn("1 item(s), queued 1 message(s)", out)
        second = mail.wait_for(lambda m: len(newsletter_mails(mail.messages(),
                                                               "bea@example.org")) == 2)
        self.assertIsNotNone(second)
        bea_second = newsletter_mails(mail.messages(), "bea@example.org")[1]
        self.assertIn("Nouvelle ultérieure", harness.message_text(bea_second))
        self.assertNotIn("Titre 11", harness.message_text(bea_second))
        time.sleep(2)  # give the sender time to deliver anything it wrongly queued
        self.assertEqual(len(newsletter_mails(mail.messages(), "ann@example.org")), 1)
        self.assertEqual(len(newsletter_mails(mail.messages(), "carl@example.org")), 0)
        self.assertIn("nothing to send", self.admin("newsletter", "send").stdout)


class NewsletterPostgresTest(NewsletterTest):
    """The same scenarios on PostgreSQL (the migrations and every statement on both)."""

    def database(self):
        return self.start_postgres()

    def test_french_pages(self):
        self.skipTest("language handling does not depend on the database")


if __name__ == "__main__":
    import unittest
    unittest.main()
