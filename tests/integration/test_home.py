"""The visitor's portal (CONTRACT section 13, issue 17): the home page at /, where sign-in and
sign-out lead by default, the favicon every page links, feed discovery on news pages.
"""

import os
import re
import shutil
import unittest

import harness
import portal_flows as flows
import test_news as feeds
from harness import IntegrationTest

VIDEO = "2023-07-06-sweden-membership-video"
TEXT = "2023-07-06-sweden-membership"


def section(page, ident):
    m = re.search(r'<section[^>]*aria-labelledby="%s">(.*?)</section>' % ident, page, re.S)
    return m.group(1) if m else ""


class HomeTest(IntegrationTest):
    @classmethod
    def setUpClass(cls):
        cls.media = feeds.make_sample_media(
            os.environ.get("NM_SOURCE_DIR") or os.path.dirname(os.path.dirname(harness.HERE)),
            "home-media")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.media, ignore_errors=True)

    def start(self, **kw):
        self.apache = self.make_apache(feed=os.path.join(self.media, "sample-feed.xml"),
                                       media_root=self.media, **kw)
        return self.apache.client()

    def test_home_page_for_visitors_and_accounts(self):
        c = self.start()
        r = c.get("/")
        self.assertEqual(r.status, 200, r.body[:500])
        page = r.body
        self.assertIn("NATO MULTIMEDIA ACCOUNT", page)
        self.assertIn("Access NATO’s broadcast-quality video content free of charge", page)
        videos = section(page, "home-videos")
        self.assertEqual(feeds.listed_ids(videos), [VIDEO])
        self.assertIn('src="/videos/%s/thumbnail"' % VIDEO, videos)
        self.assertIn('href="/videos/%s"' % VIDEO, videos)
        news = section(page, "home-news")
        self.assertEqual(feeds.listed_ids(news), [TEXT])
        self.assertIn('href="/news/%s"' % TEXT, news)
        hero = section(page, "home-title")
        self.assertIn('href="/account/register"', hero)
        self.assertIn('href="/account/login"', hero)
        self.assertNotIn('href="/account/"', hero)
        # Cached and validated like the news pages.
        etag = r.header("ETag")
        self.assertTrue(etag)
        self.assertEqual(c.get("/", headers={"If-None-Match": etag}).status, 304)
        fr = self.apache.client().get("/?lang=fr").body
        self.assertIn("COMPTE MULTIMÉDIA DE L’OTAN", fr)
        self.assertIn("Dernières vidéos", fr)
        self.assertIn("jeudi 6 juillet 2023", fr)

        # Signing in from the header's "Log in" (no return_to) and signing out both lead to /.
        email = "home@example.org"
        flows.register(self, c, email)
        flows.submit_code(self, c, email, flows.code_from(self.apache.mail, email))
        signed = self.apache.client()
        r = signed.submit("/account/login", {"email": email, "password": flows.PASSWORD})
        self.assertEqual(r.status, 303, r.body[:500])
        self.assertEqual(r.location, "/")
        home = signed.get("/").body
        hero = section(home, "home-title")
        self.assertIn('href="/account/"', hero)
        self.assertNotIn('href="/account/register"', hero)
        self.assertIn('action="/account/logout"', home)  # the account's page, not the cached one
        token = harness.csrf_token(signed.get("/account/").body)
        out = signed.post("/account/logout", {"csrf_token": token})
        self.assertEqual(out.status, 303)
        self.assertEqual(out.location, "/")
        self.assertIn('href="/account/register"', section(signed.get("/").body, "home-title"))

    def test_deleted_notice_and_the_way_home(self):
        """POST /account/delete ends on /?done=deleted: the home page with a notice, never from the
        cache nor a 304; any other done= shows nothing. Error pages lead back to /."""
        c = self.start(plugins=["media_gateway"], directives="NatoMediaBasePath /p\n")
        plain = c.get("/p/")
        self.assertEqual(plain.status, 200)
        self.assertNotIn('id="home-notice"', plain.body)
        etag = plain.header("ETag")
        for lang, words in (("en", "Your account and the personal data it held have been deleted."),
                            ("fr", "Votre compte et les données personnelles qu’il contenait ont "
                                   "été supprimés.")):
            r = c.get("/p/?done=deleted&lang=" + lang, headers={"If-None-Match": etag})
            self.assertEqual(r.status, 200, r.body[:300])
            self.assertEqual(r.header("Cache-Control"), "no-store")
            self.assertIn('<p class="notice" role="status" id="home-notice">%s</p>' % words,
                          r.body)
        self.assertNotIn('id="home-notice"', c.get("/p/?done=<b>x</b>").body)
        self.assertNotIn('id="home-notice"', c.get("/p/?lang=en").body)  # not cached
        missing = c.get("/p/news/no-such-item")
        self.assertEqual(missing.status, 404)
        self.assertIn('<a class="button" href="/p/">', missing.body)

    def test_home_under_base_path_and_empty_feed(self):
        c = self.start(plugins=["media_gateway"], directives="NatoMediaBasePath /p\n")
        page = c.get("/p/").body
        self.assertIn('src="/p/videos/%s/thumbnail"' % VIDEO, page)
        self.assertIn('href="/p/news/%s"' % TEXT, page)
        self.assertIn('<a class="brand" href="/p/">', page)
        self.assertEqual(c.get("/").status, 404)  # outside the base path: not the portal's

    def test_favicon_and_feed_discovery(self):
        c = self.start(plugins=["media_gateway"])
        icon = c.get("/favicon.svg")
        self.assertEqual(icon.status, 200)
        self.assertEqual(icon.header("Content-Type"), "image/svg+xml")
        self.assertIn(b"<svg", icon.raw)
        for path in ("/", "/news/", "/videos/", "/videos/" + VIDEO, "/news/" + TEXT):
            self.assertIn('<link rel="icon" href="/favicon.svg"', c.get(path).body, path)
        news = c.get("/news/").body
        self.assertRegex(news, r'<link rel="alternate" type="application/atom\+xml" '
                               r'href="/news/feed\.atom"')
        self.assertRegex(news, r'<link rel="alternate" type="application/rss\+xml" '
                               r'href="/news/feed\.rss"')


if __name__ == "__main__":
    unittest.main()
