"""Downloads through the media gateway (issue 7): sign-in gate, httpd's own file path (Range,
conditional requests, HEAD), Content-Disposition, traversal, signed links, download log, quota.

Accounts are made the visitor's way: register, read the code from the mail, verify.
"""

import base64
import hashlib
import hmac
import html
import os
import re
import shutil
import sqlite3
import time
import unittest
import urllib.parse

import harness
import portal_flows as flows
import test_news as feeds
from harness import IntegrationTest

PASSWORD = "Correct-Horse-9-battery"
VIDEO = "clip"


def sign_link(secret_path, path, expires, account_id, credential_epoch=0):
    """A download link signed with the server's own key, the way Crypto::sign does it
    (key id = first 8 hex digits of SHA-256(key); HMAC keyed by HMAC(key, domain + purpose)),
    over PATH|EXPIRES|ACCOUNT|EPOCH (the account's credential epoch, not in the URL)."""
    with open(secret_path, "rb") as f:
        key = f.read()
    kid = hashlib.sha256(key).hexdigest()[:8]
    purpose_key = hmac.new(key, b"natomedia-sign:download", hashlib.sha256).digest()
    data = "%s|%d|%d|%d" % (path, expires, account_id, credential_epoch)
    mac = hmac.new(purpose_key, data.encode(), hashlib.sha256).digest()
    sig = kid + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")
    return "%s?expires=%d&a=%d&sig=%s" % (path, expires, account_id, urllib.parse.quote(sig))


class DownloadsTest(IntegrationTest):
    @classmethod
    def setUpClass(cls):
        source = os.environ.get("NM_SOURCE_DIR") or os.path.dirname(os.path.dirname(harness.HERE))
        cls.media = feeds.make_sample_media(source, "downloads-media")
        clip = os.path.join(cls.media, VIDEO)
        os.makedirs(clip, exist_ok=True)
        for name in ("hd720.mp4", "thumb.jpg"):
            shutil.copy(os.path.join(cls.media, "sweden-membership", name), clip)
        # Traps the feed loader cannot see: symlinks inside the root that lead out of it.
        cls.outside = harness.make_work_dir("downloads-outside")
        with open(os.path.join(cls.outside, "secret.mp4"), "wb") as f:
            f.write(b"SECRET-OUTSIDE-THE-ROOT")
        os.symlink("/etc/passwd", os.path.join(clip, "escape.mp4"))
        os.symlink(cls.outside, os.path.join(clip, "elsewhere"))
        harness.subprocess.run(["chmod", "-R", "a+rX", cls.media], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.media, ignore_errors=True)
        shutil.rmtree(cls.outside, ignore_errors=True)

    def setUp(self):
        super().setUp()
        path = os.path.join(self.media, VIDEO, "hd720.mp4")
        with open(path, "rb") as f:
            self.data = f.read()
        hd = feeds.rendition_of(path, "hd720", VIDEO + "/hd720.mp4",
                                filename='NATO "Sweden" Suède: meeting.mp4')
        self.sha256 = hd["sha256"]
        escape = dict(hd, id="escape", href=VIDEO + "/escape.mp4")
        outside = dict(hd, id="outside", href=VIDEO + "/elsewhere/secret.mp4")
        self.feed_path = os.path.join(self.work_dir, "feed.xml")
        feeds.write_feed(self.feed_path, feeds.feed_xml([
            feeds.news_item(VIDEO, feeds.BASE_TIME, "Meeting on Sweden’s membership",
                            video=True, icon=VIDEO + "/thumb.jpg",
                            renditions=[hd, escape, outside]),
            feeds.news_item("text", feeds.BASE_TIME - 60, "A text item")]))

    def start(self, **kw):
        self.apache = self.make_apache(feed=self.feed_path, media_root=self.media, **kw)
        return self.apache.client()

    # --- accounts, the visitor's way -----------------------------------------------------------

    def outbox_code(self, email):
        """The code of the latest mail to email: delivered mail first, else the SQL outbox."""
        def from_maildir():
            for m in reversed(self.apache.mail.messages()):
                if email in str(m.get("To", "")):
                    return harness.verification_code(m)
            return None

        def from_outbox():
            try:
                db = sqlite3.connect("file:%s?mode=ro" % self.apache.db_path, uri=True)
                rows = db.execute("SELECT message FROM mail_outbox").fetchall()
                db.close()
            except sqlite3.Error:
                return None
            for (text,) in reversed(rows):
                text = text.decode() if isinstance(text, bytes) else text
                if email in text:
                    msg = harness.email.message_from_string(
                        text, policy=harness.email.policy.default)
                    return harness.verification_code(msg)
            return None

        return harness.wait_until(lambda: from_maildir() or from_outbox(), 20.0, 0.2)

    def verified_client(self, email="viewer@example.org"):
        c = self.apache.client()
        r = c.submit("/account/register", {"email": email, "password": PASSWORD,
                                           "password_confirm": PASSWORD})
        self.assertEqual(r.status, 303, r.body[:1000])
        code = self.outbox_code(email)
        self.assertTrue(code, "no verification code mailed")
        verify = "/account/verify?email=" + urllib.parse.quote(email)
        r = c.submit(verify, {"email": email, "code": code}, action="/account/verify")
        self.assertEqual(r.status, 200, r.body[:1000])
        return c

    def verified_client_again(self, email):
        """A new session of an existing account, signed in with its password."""
        c = self.apache.client()
        r = c.submit("/account/login", {"email": email, "password": PASSWORD,
                                        "return_to": "/account/"})
        self.assertEqual(r.status, 303, r.body[:1000])
        return c

    def account_id(self, email):
        db = sqlite3.connect("file:%s?mode=ro" % self.apache.db_path, uri=True)
        (ident,) = db.execute("SELECT id FROM accounts WHERE email = ?", (email,)).fetchone()
        db.close()
        return ident

    def download_rows(self):
        db = sqlite3.connect("file:%s?mode=ro" % self.apache.db_path, uri=True)
        rows = db.execute("SELECT account_id, item_id, rendition, bytes, requests, status "
                          "FROM media_downloads ORDER BY id").fetchall()
        db.close()
        return rows

    # --- tests --------------------------------------------------------------------------------

    def test_anonymous_visitors_are_sent_to_sign_in(self):
        c = self.start(plugins=["media_gateway"])
        r = c.get("/download/%s/hd720" % VIDEO)
        self.assertEqual(r.status, 303)
        self.assertEqual(r.location, "/account/login?return_to=%2Fvideos%2F" + VIDEO)
        self.assertEqual(c.head("/download/%s/hd720" % VIDEO).status, 303)
        self.assertEqual(c.get("/download/%s/uhd" % VIDEO).status, 404)
        self.assertEqual(c.get("/download/nope/hd720").status, 404)
        self.assertEqual(c.get("/download/text/hd720").status, 404)
        self.assertEqual(c.post("/download/%s/hd720" % VIDEO, {}).status, 405)

    def test_signed_in_download_served_by_httpd(self):
        self.start()
        c = self.verified_client()
        url = "/download/%s/hd720" % VIDEO
        r = c.get(url)
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertEqual(hashlib.sha256(r.raw).hexdigest(), self.sha256)
        # Logged after the answer has gone: wait for it, so the range requests below find it.
        self.assertTrue(harness.wait_until(self.download_rows, 5.0, 0.1))
        self.assertEqual(int(r.header("Content-Length")), len(self.data))
        self.assertEqual(r.header("Content-Type"), "video/mp4")
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        self.assertTrue(r.header("Last-Modified"))
        etag = r.header("ETag")
        self.assertRegex(etag, r'^"[0-9a-f]{32}"$')  # strong
        disp = r.header("Content-Disposition")
        self.assertTrue(disp.startswith("attachment; "), disp)
        self.assertIn('filename="NATO Sweden Su_de: meeting.mp4"', disp)
        self.assertIn("filename*=UTF-8''NATO%20Sweden%20Su%C3%A8de%3A%20meeting.mp4", disp)

        part = c.get(url, headers={"Range": "bytes=100-199"})
        self.assertEqual(part.status, 206)
        self.assertEqual(part.raw, self.data[100:200])
        self.assertEqual(part.header("Content-Range"), "bytes 100-199/%d" % len(self.data))
        tail = c.get(url, headers={"Range": "bytes=-10"})
        self.assertEqual(tail.status, 206)
        self.assertEqual(tail.raw, self.data[-10:])
        multi = c.get(url, headers={"Range": "bytes=0-1,10-11"})
        self.assertEqual(multi.status, 206)
        self.assertIn("multipart/byteranges", multi.header("Content-Type"))
        self.assertEqual(c.get(url, headers={"Range": "bytes=%d-" % (len(self.data) + 5)}).status,
                         416)
        cond = c.get(url, headers={"If-None-Match": etag})
        self.assertEqual(cond.status, 304)
        self.assertEqual(cond.raw, b"")
        if_range = c.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
        self.assertEqual(if_range.status, 200)  # If-Range mismatch: the whole file
        head = c.head(url)
        self.assertEqual(head.status, 200)
        self.assertEqual(head.raw, b"")
        self.assertEqual(int(head.header("Content-Length")), len(self.data))
        self.assertEqual(head.header("ETag"), etag)

        # Two logical downloads: the whole file with the range requests that followed it, then
        # the If-Range answer, which sent the whole file again (a download of its own).
        def logged():
            rows = self.download_rows()
            return rows if sum(row[4] for row in rows) >= 5 else None
        rows = harness.wait_until(logged, 5.0, 0.1)
        self.assertTrue(rows, self.download_rows())
        self.assertEqual(len(rows), 2, rows)
        account, item, rendition, nbytes, requests, _ = rows[0]
        self.assertEqual((account, item, rendition), (self.account_id("viewer@example.org"),
                                                      VIDEO, "hd720"))
        self.assertEqual(requests, 4)  # 200, 206 ×3; not the 416, 304 or HEAD
        self.assertGreaterEqual(nbytes, len(self.data) + 100 + 10)
        self.assertEqual(rows[1][2:5], ("hd720", len(self.data), 1))  # the If-Range 200
        metrics = harness.Client(self.apache.url()).get("/natomedia-status").body
        self.assertRegex(metrics, r"natomedia_downloads_total(\{[^}]*\})? 2\b")
        self.assertRegex(metrics, r"natomedia_download_bytes_total(\{[^}]*\})? [1-9]")

        # The account page lists it (through the natomedia.downloads provider).
        account_page = c.get("/account/")
        self.assertEqual(account_page.status, 200)
        self.assertIn("Meeting on Sweden", account_page.body)

    def test_each_download_is_one_row_on_the_account_page(self):
        """Rough edge 17: the same file fetched three times is three rows of "Recent downloads",
        each with the item's title linked, the rendition, the file's size as the video page
        writes it, and the date and time in the page's language."""
        self.start()
        c = self.verified_client("thrice@example.org")
        url = "/download/%s/hd720" % VIDEO
        for _ in range(3):
            r = c.get(url)
            self.assertEqual(r.status, 200, r.body[:500])
            self.assertEqual(len(r.raw), len(self.data))
        rows = harness.wait_until(
            lambda: (lambda rows: rows if len(rows) >= 3 else None)(self.download_rows()), 5.0, 0.1)
        self.assertTrue(rows, self.download_rows())
        self.assertEqual([row[3] for row in rows], [len(self.data)] * 3, rows)
        for lang, month, when in (("en", "[A-Z][a-z]+", r", \d\d:\d\d UTC"),
                                  ("fr", "[a-zéû]+", r" à \d\d:\d\d UTC")):
            video = c.get("/videos/%s?lang=%s" % (VIDEO, lang)).body
            size = re.search(r'<td data-bytes="%d">([^<]+)</td>' % len(self.data), video).group(1)
            page = c.get("/account/?lang=%s" % lang)
            self.assertEqual(page.status, 200)
            trs = re.findall(r'<tr class="download">(.*?)</tr>', page.body, re.S)
            self.assertEqual(len(trs), 3, page.body)
            for tr in trs:
                self.assertIn('<a href="/videos/%s">Meeting on Sweden' % VIDEO, tr)
                # Cells may carry a data-label (the phone-width layout stacks them).
                self.assertRegex(tr, r"<td[^>]*>hd720</td>")
                self.assertRegex(tr, r"<td[^>]*>%s</td>" % re.escape(size))
                self.assertRegex(tr, r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">'
                                     r'[^<]*\b\d{1,2}(?:er)? %s \d{4}%s</time>' % (month, when))
            self.assertNotIn(str(3 * len(self.data)), page.body)

    def test_traversal_never_serves_outside_the_root(self):
        self.start()
        c = self.verified_client("walker@example.org")
        attempts = ["/download/%s/escape" % VIDEO, "/download/%s/outside" % VIDEO,
                    "/download/..%2F..%2Fetc/passwd", "/download/%2e%2e/%2e%2e",
                    "/download/%s/..%%2Fhd720" % VIDEO, "/download/%s/hd720%%00" % VIDEO,
                    "/download/%s/%%2e%%2e%%2f%%2e%%2e%%2fetc%%2fpasswd" % VIDEO,
                    "/download/../../etc/passwd", "/videos/%2e%2e/thumbnail"]
        for path in attempts:
            r = c.get(path)
            self.assertIn(r.status, (400, 404), path)
            self.assertNotIn(b"root:", r.raw, path)
            self.assertNotIn(b"SECRET-OUTSIDE", r.raw, path)
        log = self.apache.error_log()
        self.assertRegex(log, r"download /download/clip/escape refused: .*outside the media root")
        self.assertRegex(log, r"download /download/clip/outside refused: .*outside the media root")

    def test_signed_links_work_without_cookie_until_they_expire(self):
        self.start()
        c = self.verified_client("manager@example.org")
        page = c.get("/videos/" + VIDEO)
        self.assertEqual(page.status, 200)
        m = re.search(r'id="link-hd720" readonly value="([^"]+)"', page.body)
        self.assertTrue(m, page.body[-3000:])
        # Issue 17 rough edge 12: the expiry reads "Friday 7 July 2023, 10:00 UTC", no brackets.
        self.assertRegex(page.body, r"These personal links work without signing in until "
                                    r"[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC<")
        link = html.unescape(m.group(1))
        self.assertTrue(link.startswith(self.apache.public_url + "/download/%s/hd720?" % VIDEO))
        anon = harness.Client(self.apache.url())
        r = anon.get(link)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(hashlib.sha256(r.raw).hexdigest(), self.sha256)
        self.assertEqual(anon.get(link, headers={"Range": "bytes=0-9"}).raw, self.data[:10])

        parts = urllib.parse.urlsplit(link)
        q = dict(urllib.parse.parse_qsl(parts.query))
        def with_query(**changes):
            return parts.path + "?" + urllib.parse.urlencode(dict(q, **changes))
        sig = q["sig"]
        tampered = sig[:-1] + ("A" if sig[-1] != "A" else "B")
        self.assertEqual(anon.get(with_query(sig=tampered)).status, 403)
        self.assertEqual(anon.get(with_query(expires=str(int(q["expires"]) + 3600))).status, 403)
        self.assertEqual(anon.get(with_query(a=str(int(q["a"]) + 1))).status, 403)
        self.assertEqual(anon.get(parts.path.replace("hd720", "escape") + "?" + parts.query)
                         .status, 403)
        self.assertEqual(anon.get(with_query(sig="")).status, 403)
        expired = sign_link(self.apache.secret_file, "/download/%s/hd720" % VIDEO,
                            int(time.time()) - 10, int(q["a"]))
        self.assertEqual(anon.get(expired).status, 410)
        fresh = sign_link(self.apache.secret_file, "/download/%s/hd720" % VIDEO,
                          int(time.time()) + 600, int(q["a"]))
        self.assertEqual(anon.get(fresh).status, 200)  # the test signs like the server does

    def test_signed_link_stops_when_its_account_is_disabled(self):
        self.start()
        email = "disabled-later@example.org"
        c = self.verified_client(email)
        page = c.get("/videos/" + VIDEO)
        m = re.search(r'id="link-hd720" readonly value="([^"]+)"', page.body)
        self.assertTrue(m, page.body[-3000:])
        link = html.unescape(m.group(1))
        anon = harness.Client(self.apache.url())
        self.assertEqual(anon.get(link).status, 200)

        def admin(*args):
            res = flows.admin(self.prefix, self.apache.conf_path, *args)
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

        admin("accounts", "disable", email)
        r = anon.get(link)
        self.assertEqual(r.status, 403, r.body[:300])
        self.assertIn("the account is disabled", r.body)
        self.assertEqual(anon.get(link, headers={"Range": "bytes=0-9"}).status, 403)
        self.assertRegex(self.apache.error_log(),
                         r"refused a download link for /download/%s/hd720 of account \d+: a bad "
                         r"signature, or made before the account's credentials changed" % VIDEO)
        # Disabling moved the account's credential epoch on (CONTRACT section 12): enabling it
        # again does not bring the old link back; a link made now works.
        admin("accounts", "enable", email)
        self.assertEqual(anon.get(link).status, 403)
        c = self.verified_client_again(email)
        page = c.get("/videos/" + VIDEO)
        fresh = html.unescape(re.search(r'id="link-hd720" readonly value="([^"]+)"',
                                        page.body).group(1))
        self.assertNotEqual(fresh, link)
        self.assertEqual(anon.get(fresh).status, 200)

    def test_daily_quota(self):
        if int(time.time()) % 86400 < 3700:
            self.skipTest("too close to midnight UTC to age a download within today")
        size = len(self.data)
        self.start(directives="NatoMediaDownloadQuota %d" % (size + size // 2))
        c = self.verified_client("quota@example.org")
        url = "/download/%s/hd720" % VIDEO
        self.assertEqual(c.get(url).status, 200)
        # Range requests continuing the same download are not a new download.
        self.assertEqual(c.get(url, headers={"Range": "bytes=0-99"}).status, 206)
        self.assertEqual(c.get("/download/%s/escape" % VIDEO).status, 404)  # not served anyway
        db_rows = harness.wait_until(self.download_rows, 5.0, 0.1)
        self.assertTrue(db_rows)
        # A new logical download (the window closed) would exceed the quota: 429 with a page.
        self.apache_db_age_rows(3700)
        over = c.get(url)
        self.assertEqual(over.status, 429, over.body[:500])
        self.assertTrue(over.header("Retry-After"))
        self.assertIn("Daily download limit reached", over.body)
        # Not a form: no "There is a problem" error summary (issue 17).
        self.assertNotIn('class="error-summary"', over.body)

    def apache_db_age_rows(self, seconds):
        """Moves the logged downloads `seconds` into the past, but not before today (UTC)."""
        now = int(time.time())
        day_start = now - now % 86400
        db = sqlite3.connect(self.apache.db_path)
        db.execute("UPDATE media_downloads SET last_at = MAX(?, last_at - ?), "
                   "bucket = bucket - 2", (day_start, seconds))
        db.commit()
        db.close()


if __name__ == "__main__":
    unittest.main()
