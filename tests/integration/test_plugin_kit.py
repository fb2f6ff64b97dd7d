"""The plugin kit end to end (issue 19): the tutorial plugin (docs/tutorial/watchlist) is built out
of tree against the staged install only, its unit tests run with the installed test kit, it is
installed (its templates and strings into the staged share directory) and loaded into httpd by
path, and its routes answer with and without NatoMediaBasePath, on SQLite and PostgreSQL: signed
out (the trailing-slash redirect, the 303 to sign-in, the 403 without a CSRF token) and as a real
signed-in visitor (registered and verified through the SMTP sink, then signed in through the login
form, whose return_to brings them back to the watchlist under the base path), who sees the page
in English and French, adds items with the page's CSRF token, and adds one twice (one row)."""
# ctest-timeout: 900

import html
import os
import re
import shutil
import subprocess
import unittest

import harness
import proof_support

PLUGINS = ["authentication", "verification"]
PASSWORD = proof_support.PASSWORD

# From docs/tutorial/watchlist/i18n: the page's title and count label in each language.
TITLE = {"en": "My watchlist", "fr": "Ma liste à suivre"}
COUNT = {"en": "Items", "fr": "Éléments"}


def watched(body):
    """The item ids listed on the watchlist page, in order."""
    return re.findall(r'<li class="watched">(?:<a href="[^"]*">)?([^<]*)', body)


class PluginKitTest(harness.IntegrationTest):

    def build_tutorial(self):
        src = os.path.join(self.source_dir, "docs", "tutorial", "watchlist")
        build = os.path.join(self.work_dir, "watchlist-build")
        shutil.rmtree(build, ignore_errors=True)
        subprocess.run(["cmake", "-S", src, "-B", build, "-DCMAKE_PREFIX_PATH=" + self.prefix],
                       check=True, capture_output=True)
        out = subprocess.run(["cmake", "--build", build, "--verbose"], check=True,
                             capture_output=True, text=True).stdout
        # Only the staged install: no include path into the source tree's include/ or core.
        for bad in (os.path.join(self.source_dir, "include"),
                    os.path.join(self.source_dir, "mod_natomedia")):
            self.assertNotIn("-I" + bad, out)
        self.assertIn(os.path.join(self.prefix, "include"), out)
        test = subprocess.run(["ctest", "--test-dir", build, "--output-on-failure"],
                              capture_output=True, text=True)
        self.assertEqual(test.returncode, 0, test.stdout + test.stderr)
        subprocess.run(["cmake", "--install", build], check=True, capture_output=True)
        subprocess.run(["chmod", "-R", "a+rX", build, self.prefix], check=True)
        return os.path.join(build, "natomedia_watchlist.so")

    def check_signed_out(self, ap, base):
        c = ap.client()
        r = c.get(base + "/watchlist?x=1")
        self.assertEqual((r.status, r.header("Location")), (301, base + "/watchlist/?x=1"))
        r = c.get(base + "/watchlist/")
        self.assertEqual(r.status, 303, r.body[:300])
        self.assertEqual(r.header("Location"), base + "/account/login?return_to=%2Fwatchlist%2F")
        # The form refuses a post without its token, in the visitor's language.
        for lang in ("en", "fr"):
            r = c.post(base + "/watchlist/?lang=" + lang, {"item": "x"})
            self.assertEqual(r.status, 403, r.body[:300])
            self.assertIn('lang="%s"' % lang, r.body)

    def page(self, c, base, lang):
        """GET the watchlist in lang: 200, the tutorial's strings in that language."""
        r = c.get("/watchlist/?lang=" + lang)
        self.assertEqual(r.status, 200, r.body[:1000])
        self.assertIn('lang="%s"' % lang, r.body)
        self.assertIn("<h1>%s</h1>" % TITLE[lang], r.body)
        self.assertIn('action="%s/watchlist/"' % base, r.body)
        other = "fr" if lang == "en" else "en"
        self.assertNotIn("<h1>%s</h1>" % TITLE[other], r.body)
        return r

    def add(self, c, base, page, item, status=303):
        # The token of the watchlist's own form (the header's sign-out form carries one too).
        form = re.search(r'<form method="post" action="%s/watchlist/">.*?</form>' % re.escape(base),
                         page.body, re.S)
        self.assertTrue(form, page.body)
        token = harness.csrf_token(form.group(0))
        self.assertTrue(token, form.group(0))
        r = c.post("/watchlist/", {"csrf_token": token, "item": item})
        self.assertEqual(r.status, status, r.body[:1000])
        if status == 303:
            self.assertEqual(r.location, base + "/watchlist/")
        return r

    def check_signed_in(self, ap, base, email):
        # Registered and verified through the SMTP sink (paths under the base path).
        c0 = harness.Client(ap.url(base))
        r = proof_support.register(c0, email)
        self.assertEqual(r.status, 303, r.body[:1000])
        r = proof_support.verify(c0, ap, email)
        self.assertEqual(r.status, 200, r.body[:1000])
        # A new browser asks for the watchlist, is sent to sign in, and comes back to it.
        c = harness.Client(ap.url(base))
        r = c.get("/watchlist/")
        self.assertEqual(r.status, 303, r.body[:300])
        login = r.header("Location")
        self.assertEqual(login, base + "/account/login?return_to=%2Fwatchlist%2F")
        form = c.get(ap.url(login))
        self.assertEqual(form.status, 200, form.body[:1000])
        self.assertIn('name="return_to" value="/watchlist/"', form.body)
        self.assertIn('action="%s/account/login"' % base, form.body)
        r = c.post("/account/login", {"csrf_token": harness.csrf_token(form.body),
                                      "email": email, "password": PASSWORD,
                                      "return_to": "/watchlist/"})
        self.assertEqual(r.status, 303, r.body[:1000])
        self.assertEqual(r.location, base + "/watchlist/")

        # The page, in English then French; empty at first.
        en = self.page(c, base, "en")
        self.assertIn('<p id="count">%s: 0</p>' % COUNT["en"], en.body)
        self.assertEqual(watched(en.body), [])
        fr = self.page(c, base, "fr")
        self.assertIn('<p id="count">%s: 0</p>' % COUNT["fr"], fr.body)

        # Adding with the page's token: 303 back, then listed; the same item twice, one row.
        first, second = "urn:natomedia:clip-1", "urn:natomedia:clip-2"
        self.add(c, base, en, first)
        en = self.page(c, base, "en")
        self.assertEqual(watched(en.body), [first])
        self.assertIn('<p id="count">%s: 1</p>' % COUNT["en"], en.body)
        self.add(c, base, en, first)
        fr = self.page(c, base, "fr")
        self.assertEqual(watched(fr.body), [first])
        self.add(c, base, fr, second)
        fr = self.page(c, base, "fr")
        self.assertEqual(watched(fr.body), [first, second])
        self.assertIn('<p id="count">%s: 2</p>' % COUNT["fr"], fr.body)
        # No item: 400 with the plugin's message in the visitor's language.
        r = self.add(c, base, fr, "", status=400)
        self.assertIn("Indiquez un élément du fil à suivre.", r.body)
        # Markup in an item is escaped on the page.
        third = 'z<b>&"c'  # sorts last: the page orders by added_at (seconds), then id
        self.add(c, base, fr, third)
        en = self.page(c, base, "en")
        self.assertIn("z&lt;b&gt;&amp;", en.body)
        self.assertNotIn("z<b>", en.body)
        self.assertEqual([html.unescape(i) for i in watched(en.body)], [first, second, third])

        account = ap.sql("SELECT id FROM accounts WHERE email = ?", (email,))[0][0]
        rows = ap.sql("SELECT item_id FROM watchlist_items WHERE account_id = ?", (account,))
        self.assertEqual(sorted(r[0] for r in rows), sorted([first, second, third]))
        # Another visitor does not see them.
        self.assertEqual(watched(harness.Client(ap.url(base)).get("/watchlist/").body), [])

    def run_on(self, db):
        so = self.build_tutorial()
        smtp = self.start_smtp()
        for base in ("", "/p"):
            with self.subTest(base=base):
                kw = {"db": db} if db else {}
                ap = self.make_apache(name="wl" + base.replace("/", "_"), plugins=PLUGINS + [so],
                                      base_path=base or None, smtp=smtp, **kw)
                self.check_signed_out(ap, base)
                self.check_signed_in(ap, base, "watcher%s@example.org" % base.replace("/", "-"))
                rows = ap.sql("SELECT COUNT(*) FROM schema_migrations WHERE owner = 'watchlist'")
                self.assertEqual(str(rows[0][0]), "1")
                # A second server on the same PostgreSQL database applies nothing again.
                if base == "" or not db:
                    self.assertIn("applied migration watchlist 1", ap.error_log())
                ap.stop()

    def test_tutorial_on_sqlite(self):
        self.run_on(None)

    def test_tutorial_on_postgresql(self):
        self.run_on(self.start_postgres())


if __name__ == "__main__":
    unittest.main()
