"""The foundation (issue 2): install layout, one exported symbol, configuration checks at
configtest, the out-of-tree example plugin loaded by path on SQLite and PostgreSQL, the ABI check,
memcached's three answers, the metrics page, and the request pipeline's answers to bad input."""
# ctest-timeout: 900

import os
import re
import shutil
import subprocess
import unittest

import harness

CONTRACT_FILES = [
    "lib/apache2/modules/mod_natomedia.so",
    "lib/natomedia/plugins/natomedia_authentication.so",
    "lib/natomedia/plugins/natomedia_verification.so",
    "lib/natomedia/plugins/natomedia_newsletter.so",
    "lib/natomedia/plugins/natomedia_media_gateway.so",
    "include/natomedia/plugin.h",
    "lib/cmake/NatoMedia/NatoMediaConfig.cmake",
    "share/natomedia/schemas/natomedia-feed.xsd",
    "share/natomedia/conf/natomedia.load",
    "share/natomedia/conf/natomedia.conf",
    "share/natomedia/i18n/core.en.strings",
    "share/natomedia/i18n/core.fr.strings",
    "share/natomedia/templates/core/error.html",
    "bin/natomedia-admin",
]

BAD_ABI_SOURCE = r"""
#include <natomedia/plugin.h>
static void setup(natomedia::PluginHost*) {}
extern "C" __attribute__((visibility("default"))) const natomedia_plugin_info*
natomedia_plugin_entry(void) {
  // Only abi_version is read from a plugin of another ABI version.
  static const natomedia_plugin_info info = {999u, 0, 0, "bad_abi", "1", setup};
  return &info;
}
"""

_example_so = None


def build_example(prefix, work_root):
    """Builds plugins/example out of tree against the installed SDK (once per test run), runs
    its unit test with the installed test kit and installs it (its templates and strings go into
    the staged share directory, where the module finds them)."""
    global _example_so
    if _example_so and os.path.exists(_example_so):
        return _example_so
    src = os.path.join(harness.IntegrationTest.source_dir.fget(None), "plugins", "example")
    build = os.path.join(work_root, "example-build")
    shutil.rmtree(build, ignore_errors=True)
    subprocess.run(["cmake", "-S", src, "-B", build, "-DCMAKE_PREFIX_PATH=" + prefix],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", build], check=True, capture_output=True)
    subprocess.run(["ctest", "--test-dir", build, "--output-on-failure"], check=True,
                   capture_output=True)
    subprocess.run(["cmake", "--install", build], check=True, capture_output=True)
    subprocess.run(["chmod", "-R", "a+rX", build, prefix], check=True)
    _example_so = os.path.join(build, "natomedia_example.so")
    return _example_so


class FoundationTest(harness.IntegrationTest):

    def example(self):
        root = os.environ.get("NM_TEST_WORK", "/tmp")
        os.makedirs(root, exist_ok=True)
        return build_example(self.prefix, root)

    def apache(self, **kw):
        kw.setdefault("plugins", [self.example()])
        return self.make_apache(**kw)

    # --- install ---------------------------------------------------------------------------

    def test_install_layout_matches_contract(self):
        missing = [f for f in CONTRACT_FILES if not os.path.exists(os.path.join(self.prefix, f))]
        self.assertEqual(missing, [])

    def test_module_exports_one_symbol(self):
        so = os.path.join(self.prefix, "lib/apache2/modules/mod_natomedia.so")
        out = subprocess.run(["nm", "-D", "--defined-only", so], check=True,
                             capture_output=True, text=True).stdout
        symbols = [line.split()[-1] for line in out.splitlines() if line.strip()]
        self.assertEqual(symbols, ["natomedia_module"])

    def test_module_and_plugins_can_be_unloaded(self):
        """A thread_local with a destructor registers it with __cxa_thread_atexit, which keeps
        the library mapped for as long as the thread lives: httpd's parent would then never
        unload the module on a restart, and a new version of it (a package upgrade and
        `apachectl graceful`) would never be loaded."""
        libs = [os.path.join(self.prefix, "lib/apache2/modules/mod_natomedia.so")]
        plugins = os.path.join(self.prefix, "lib/natomedia/plugins")
        if os.path.isdir(plugins):
            libs += [os.path.join(plugins, f) for f in sorted(os.listdir(plugins))
                     if f.endswith(".so")]
        pinned = []
        for lib in libs:
            out = subprocess.run(["nm", "-D", "--undefined-only", lib], check=True,
                                 capture_output=True, text=True).stdout
            if "__cxa_thread_atexit" in out:
                pinned.append(os.path.basename(lib))
        self.assertEqual(pinned, [])
        self.assertGreater(len(libs), 1, "no plugin found under %s" % plugins)

    # --- configuration ---------------------------------------------------------------------

    def test_shipped_conf_passes_configtest(self):
        """conf/natomedia.load + natomedia.conf, a2enmod style, with this test's paths."""
        share = os.path.join(self.prefix, "share/natomedia/conf")
        with open(os.path.join(share, "natomedia.load")) as f:
            load = f.read().replace("/usr/lib/apache2/modules/mod_natomedia.so",
                                    os.path.join(self.prefix, "lib/apache2/modules/mod_natomedia.so"))
        ap = harness.Apache(self.prefix, os.path.join(self.work_dir, "shipped"), load_natomedia=False,
                            db=None)
        secret = ap._write_secret()
        with open(os.path.join(share, "natomedia.conf")) as f:
            conf = (f.read().replace("/etc/apache2/natomedia.key", secret)
                    .replace("/var/lib/natomedia/accounts.db", ap.db_path))
        conf += "\nNatoMediaPluginDir %s/lib/natomedia/plugins\nNatoMedia On\n" % self.prefix
        conf += "NatoMediaPublicURL http://127.0.0.1:%d\n" % ap.port
        ap.extra_conf = load + "\n" + conf
        ap.write_config()
        rc, out = ap.configtest()
        self.assertEqual(rc, 0, out)
        self.assertIn("Syntax OK", out)

    def assert_configtest_fails(self, expect, **kw):
        ap = harness.Apache(self.prefix, os.path.join(self.work_dir, "bad%d" % id(kw)),
                            **{"plugins": [], **kw})
        rc, out = ap.configtest()
        self.assertNotEqual(rc, 0, "configtest passed but should fail:\n" + out)
        for needle in expect:
            self.assertIn(needle, out)
        return out

    def test_bad_values_stop_configtest_with_a_message(self):
        cases = [
            ("NatoMediaCodeLifetime abc", ["NatoMediaCodeLifetime", "whole number of seconds"]),
            ("NatoMediaCodeLifetime 5", ["NatoMediaCodeLifetime", "from 30 to 86400"]),
            ("NatoMediaSessionIdle -1", ["NatoMediaSessionIdle"]),
            ("NatoMediaBasePath portal/", ["NatoMediaBasePath", "/portal"]),
            ("NatoMediaPublicURL ftp://x", ["NatoMediaPublicURL", "https://"]),
            ("NatoMediaMemcached \"--SERVERS=nope\"", ["NatoMediaMemcached"]),
            ("NatoMediaMailTransport mailto:x", ["NatoMediaMailTransport", "smtp://host:port"]),
            ("NatoMediaMailFrom nobody", ["NatoMediaMailFrom", "noreply@example.org"]),
            ("NatoMediaFeed /nonexistent/feed.xml", ["NatoMediaFeed", "/nonexistent/feed.xml"]),
            ("NatoMediaMediaRoot /nonexistent", ["NatoMediaMediaRoot", "not an existing directory"]),
            ("NatoMediaDownloadQuota lots", ["NatoMediaDownloadQuota", "bytes"]),
        ]
        for directive, expect in cases:
            with self.subTest(directive=directive):
                out = self.assert_configtest_fails(expect, directives=directive)
                self.assertRegex(out, r"httpd\.conf")  # httpd names the file (and line)

    def test_short_secret_is_refused(self):
        short = os.path.join(self.work_dir, "short.key")
        with open(short, "wb") as f:
            f.write(b"0123456789")
        os.chmod(short, 0o600)  # a private file: the size is what is wrong
        self.assert_configtest_fails(["NatoMediaSecretFile", "32"], secret_file=short)

    def test_missing_required_directives(self):
        ap = harness.Apache(self.prefix, os.path.join(self.work_dir, "noreq"), plugins=[])
        ap.natomedia_lines = lambda: ["NatoMedia On"]
        ap.write_config()
        rc, out = ap.configtest()
        self.assertNotEqual(rc, 0, out)
        for name in ("NatoMediaSecretFile", "NatoMediaMailTransport", "NatoMediaMailFrom"):
            self.assertIn(name, out)

    def test_unknown_plugin_lists_the_ones_found(self):
        out = self.assert_configtest_fails(["NatoMediaPlugin", "no plugin 'nosuch'"],
                                           plugins=["nosuch"], memcached="--SERVER=127.0.0.1:1")
        self.assertRegex(out, r"plugins found there: .*authentication")

    def test_missing_mod_dbd_is_reported(self):
        ap = harness.Apache(self.prefix, os.path.join(self.work_dir, "nodbd"), plugins=[], db=None)
        text = ap.config_text().replace("LoadModule dbd_module", "#LoadModule dbd_module")
        with open(ap.conf_path, "w") as f:
            f.write(text)
        rc, out = ap.configtest()
        self.assertNotEqual(rc, 0, out)
        self.assertIn("mod_dbd is not loaded", out)

    def test_plugin_with_another_abi_is_refused_naming_both_versions(self):
        src = os.path.join(self.work_dir, "bad_abi.cc")
        so = os.path.join(self.work_dir, "natomedia_bad_abi.so")
        with open(src, "w") as f:
            f.write(BAD_ABI_SOURCE)
        subprocess.run(["g++", "-std=c++17", "-shared", "-fPIC", "-I",
                        os.path.join(self.prefix, "include"), src, "-o", so], check=True)
        os.chmod(so, 0o755)
        with open(os.path.join(self.prefix, "include/natomedia/plugin.h")) as f:
            ours = re.search(r"#define NATOMEDIA_ABI_VERSION (\d+)u", f.read()).group(1)
        out = self.assert_configtest_fails(["ABI version 999", "ABI version %s;" % ours],
                                           plugins=[so])
        self.assertIn(so, out)

    # --- plugins, SQL, memcached -------------------------------------------------------------

    def check_example_plugin(self, ap):
        client = ap.client()
        first = client.get("/example/hello?name=%3Cb%3Eyou%3C/b%3E")
        self.assertEqual(first.status, 200, first.body[:500])
        self.assertIn("&lt;b&gt;you&lt;/b&gt;", first.body)
        self.assertNotIn("<b>you</b>", first.body)
        n1 = int(re.search(r'id="visits">(\d+)<', first.body).group(1))
        second = client.get("/example/hello")
        n2 = int(re.search(r'id="visits">(\d+)<', second.body).group(1))
        self.assertEqual(n2, n1 + 1)
        fr = client.get("/example/hello?lang=fr")
        self.assertIn("Bonjour", fr.body)
        self.assertIn('lang="fr"', fr.body)
        # The choice is remembered in a cookie.
        self.assertIn("Bonjour", client.get("/example/hello").body)

    def test_out_of_tree_plugin_on_sqlite(self):
        ap = self.apache()
        self.check_example_plugin(ap)
        self.assertIn("applied migration example 1", ap.error_log())

    def test_out_of_tree_plugin_on_postgresql(self):
        pg = self.start_postgres()
        ap = self.apache(db=pg)
        self.check_example_plugin(ap)
        # Its two migrations: the visit counter and the per-account visits (erased on kDeleted).
        self.assertEqual(
            pg.psql("SELECT count(*) FROM schema_migrations WHERE owner='example'").strip(), "2")
        # A second server on the same database applies nothing again and shares the data.
        other = self.apache(name="other", db=pg)
        self.check_example_plugin(other)
        self.assertNotIn("applied migration", other.error_log())

    def test_memcached_error_is_not_a_miss_and_recovers(self):
        mc = self.start_memcached()
        ap = self.apache(memcached=mc)
        c = ap.client()
        self.assertEqual(c.get("/example/cache?key=a").body.strip(), "miss")
        self.assertEqual(c.get("/example/cache?key=a").body.strip(), "hit stored")
        mc.stop()
        down = c.get("/example/cache?key=a")
        self.assertEqual((down.status, down.body.strip()), (503, "error"))
        mc.start()
        # The failed server is retried without restarting httpd.
        harness.wait_until(lambda: c.get("/example/cache?key=b").body.strip() != "error", 10)
        self.assertEqual(c.get("/example/cache?key=b").body.strip(), "hit stored")
        metrics = c.get("/natomedia-status").body
        self.assertRegex(metrics, r"natomedia_memcached_errors_total [1-9]")

    def test_metrics_are_summed_over_children(self):
        ap = self.apache()
        c = ap.client()
        for _ in range(40):
            self.assertEqual(c.get("/example/hello").status, 200)
        page = c.get("/natomedia-status")
        self.assertEqual(page.status, 200)
        self.assertTrue(page.header("Content-Type").startswith("text/plain; version=0.0.4"))
        self.assertIn("natomedia_example_hellos_total 40", page.body)
        self.assertIn("# TYPE natomedia_requests_total counter", page.body)

    # --- the request pipeline ----------------------------------------------------------------

    def test_bad_input_answers(self):
        ap = self.apache()
        c = ap.client()
        self.assertEqual(c.get("/example/nope").status, 404)
        wrong = c.request("DELETE", "/example/hello")
        self.assertEqual(wrong.status, 405)
        self.assertEqual(wrong.header("Allow"), "GET, POST, HEAD")
        self.assertEqual(c.get("/example/hello?name=%FF%FE").status, 400)
        self.assertEqual(c.get("/example/hello?name=a%00b").status, 400)
        # No token: 403 and nothing shown back.
        no_csrf = c.post("/example/hello", {"text": "hi"})
        self.assertEqual(no_csrf.status, 403)
        ok = c.submit("/example/hello", {"text": "<script>x</script>"})
        self.assertEqual(ok.status, 200)
        self.assertIn("&lt;script&gt;x&lt;/script&gt;", ok.body)
        big = c.post("/example/hello", {"text": "x" * (70 * 1024)})
        self.assertEqual(big.status, 413)
        token = harness.csrf_token(c.get("/example/hello").body)
        bad_utf8 = c.post("/example/hello", b"csrf_token=" + token.encode() + b"&text=%C3%28",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(bad_utf8.status, 400)
        cross = c.submit("/example/hello", {"text": "x"},
                         headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
        self.assertEqual(cross.status, 403)
        # Paths outside the portal's routes are httpd's own.
        self.assertEqual(c.get("/static.txt").status, 200)
        self.assertNotIn(" 500 ", ap.access_log())


if __name__ == "__main__":
    unittest.main()
