"""The plugin kit end to end (issue 19): the tutorial plugin (docs/tutorial/watchlist) is built out
of tree against the staged install only, its unit tests run with the installed test kit, it is
installed (its templates and strings into the staged share directory) and loaded into httpd by
path, and its routes answer with and without NatoMediaBasePath, on SQLite and PostgreSQL. The
signed-in pages in English and French are checked by its unit tests (the kit renders them with the
real engine); here they are reached signed out, in both languages."""
# ctest-timeout: 900

import os
import shutil
import subprocess
import unittest

import harness

PLUGINS = ["authentication", "verification"]


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

    def check(self, ap, base):
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

    def run_on(self, db):
        so = self.build_tutorial()
        for base in ("", "/p"):
            with self.subTest(base=base):
                kw = {"db": db} if db else {}
                ap = self.make_apache(name="wl" + base.replace("/", "_"), plugins=PLUGINS + [so],
                                      base_path=base or None, **kw)
                self.check(ap, base)
                rows = ap.sql("SELECT COUNT(*) FROM watchlist_items")
                self.assertEqual(str(rows[0][0]), "0")
                rows = ap.sql("SELECT COUNT(*) FROM schema_migrations WHERE owner = 'watchlist'")
                self.assertEqual(str(rows[0][0]), "1")
                # A second server on the same PostgreSQL database applies nothing again.
                if base == "" or not db:
                    self.assertIn("applied migration watchlist 1", ap.error_log())

    def test_tutorial_on_sqlite(self):
        self.run_on(None)

    def test_tutorial_on_postgresql(self):
        self.run_on(self.start_postgres())


if __name__ == "__main__":
    unittest.main()
