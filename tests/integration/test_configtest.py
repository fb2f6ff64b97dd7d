"""`apachectl configtest` checks what it can check at configuration time (issue 18): the feed
parses and validates, each memcached server string is well formed with a real port, plugin
dependencies are present; libmemcached's internals never reach the admin. Also the log lines an
admin reads (a refused feed, memcached down), the shipped status sample reachable over ::1, and
/account, /newsletter without the trailing slash."""
# ctest-timeout: 600

import os
import re
import socket
import subprocess
import time
import unittest

import harness
from harness import IntegrationTest

PLUGINS = ["authentication", "verification", "newsletter", "media_gateway"]
# What libmemcached says about a string it cannot parse: a pointer, its own source file and line.
LIBMEMCACHED_INTERNALS = re.compile(r"0x[0-9a-f]{6,}|context\.cc|Error occured|\.cc:\d+")
EXAMPLE = "--SERVER=127.0.0.1:11211"

# A NewsML-G2 document that parses but does not validate: the first item has no headline, at
# line 9 of the file.
INVALID_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/" xmlns:nm="urn:natomedia:feed:1">
  <header><sent>2023-07-06T18:00:00Z</sent></header>
  <itemSet>
    <newsItem guid="urn:natomedia:one" version="1" standard="NewsML-G2" standardversion="2.36"
              xml:lang="en">
      <itemMeta>
        <itemClass qcode="ninat:text"/>
        <bogus/>
      </itemMeta>
    </newsItem>
  </itemSet>
</newsMessage>
"""

# A plugin that uses std::string across the boundary, as every plugin does.
OLD_STRINGS_SOURCE = r"""
#include <natomedia/plugin.h>
static void setup(natomedia::PluginHost* host) {
  host->route("GET", "/old_strings", [](natomedia::Context&) { return natomedia::Response(); });
}
NATOMEDIA_PLUGIN("old_strings", "1", setup)
"""

# The entry of a plugin built with an earlier SDK: its own layout, abi_version first.
PREVIOUS_SDK_SOURCE = r"""
#include <cstdint>
struct previous_info { uint32_t abi_version; const char* name; const char* version; void* setup; };
extern "C" __attribute__((visibility("default"))) const previous_info* natomedia_plugin_entry() {
  static const previous_info info = {%du, "previous_sdk", "1", nullptr};
  return &info;
}
"""


class ConfigtestTest(IntegrationTest):

    def sample_feed(self):
        return os.path.join(self.source_dir, "conf/sample-feed.xml")

    def apache(self, name, **kw):
        kw.setdefault("plugins", PLUGINS)
        kw.setdefault("memcached", "--SERVER=127.0.0.1:11211")
        return harness.Apache(self.prefix, os.path.join(self.work_dir, name), **kw)

    def configtest_fails(self, ap, *expect):
        rc, out = ap.configtest()
        self.assertNotEqual(rc, 0, "configtest passed but should fail:\n" + out)
        self.assertNotIn("Syntax OK", out)
        for needle in expect:
            self.assertIn(needle, out)
        self.assertIsNone(LIBMEMCACHED_INTERNALS.search(out), out)
        return out

    # --- what passes ------------------------------------------------------------------------

    def test_good_configurations_pass(self):
        cases = {
            "plain": {"feed": self.sample_feed()},
            "spaces_around": {"memcached": "  --SERVER=127.0.0.1:11211  "},
            "pool": {"memcached": "--SERVER=10.0.0.1:11211 --SERVER=10.0.0.2 "
                                  "--SERVER=cache-3.example.org:11211/?2 --DISTRIBUTION=consistent "
                                  "--CONNECT-TIMEOUT=200"},
            "port_edges": {"memcached": "--SERVER=127.0.0.1:1 --SERVER=127.0.0.1:65535"},
            "news_only": {"plugins": ["media_gateway"], "memcached": None,
                          "feed": self.sample_feed()},
            "accounts_only": {"plugins": ["authentication", "verification"]},
        }
        for name, kw in cases.items():
            with self.subTest(name):
                rc, out = self.apache(name, **kw).configtest()
                self.assertEqual(rc, 0, out)
                self.assertIn("Syntax OK", out)

    # --- the feed ---------------------------------------------------------------------------

    def test_a_file_that_is_not_a_feed_fails_configtest(self):
        ap = self.apache("passwd", feed="/etc/passwd")
        out = self.configtest_fails(ap, "NatoMediaFeed /etc/passwd", "/etc/passwd:1",
                                    "natomedia-admin feed validate")
        # Where the directive is: httpd.conf and its line.
        line = next(i for i, text in enumerate(ap.config_text().splitlines(), 1)
                    if text.startswith("NatoMediaFeed "))
        self.assertIn("%s:%d" % (ap.conf_path, line), out)

    def test_an_invalid_feed_fails_configtest_with_its_line(self):
        path = os.path.join(self.work_dir, "invalid.xml")
        with open(path, "w") as f:
            f.write(INVALID_FEED)
        os.chmod(path, 0o644)
        out = self.configtest_fails(self.apache("invalid", feed=path), "NatoMediaFeed " + path,
                                    path + ":9")

    def test_a_refused_feed_does_not_stop_a_start_and_is_logged_once(self):
        """A start is not a configtest: the server starts without news (or with the server's last
        good version) and says why once, with one prefix."""
        path = os.path.join(self.work_dir, "feed.xml")
        with open(path, "w") as f:
            f.write(INVALID_FEED)
        os.chmod(path, 0o644)
        ap = self.make_apache(feed=path, plugins=["media_gateway"], memcached=None,
                              directives="StartServers 2")
        r = ap.client().get("/news/")
        self.assertEqual(r.status, 200, r.body[:300])
        time.sleep(1.5)  # every child has started and looked at the feed
        log = ap.error_log()
        refusals = [line for line in log.splitlines() if path + ":9" in line]
        self.assertEqual(len(refusals), 1, log)
        self.assertEqual(refusals[0].count("natomedia: feed"), 1, refusals[0])
        self.assertEqual(refusals[0].count(path + " "), 1, refusals[0])

    def test_a_feed_refused_while_serving_is_logged_with_one_prefix(self):
        path = os.path.join(self.work_dir, "feed.xml")
        with open(self.sample_feed()) as f:
            good = f.read()
        with open(path, "w") as f:
            f.write(good)
        os.chmod(path, 0o644)
        ap = self.make_apache(feed=path, plugins=["media_gateway"], memcached=None)
        self.assertEqual(ap.client().get("/news/").status, 200)
        tmp = path + ".new"
        with open(tmp, "w") as f:
            f.write(INVALID_FEED)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
        pattern = re.compile(r"^.*%s:9.*$" % re.escape(path), re.M)
        self.assertTrue(harness.wait_until(lambda: pattern.search(ap.error_log()), 10))
        time.sleep(1.5)
        lines = pattern.findall(ap.error_log())
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("mod_natomedia: feed %s refused, last good feed kept: %s:9"
                      % (path, path), lines[0])
        self.assertEqual(lines[0].count("natomedia: feed"), 1, lines[0])

    # --- relative paths -----------------------------------------------------------------------

    def test_relative_directories_are_under_server_root(self):
        """Directory directives (and a plugin given by path) resolve against ServerRoot, as
        httpd's own do, not against the directory httpd was started from."""
        ap = self.make_apache("relative", start=False, plugins=[], memcached=None)
        root = ap.work_dir
        rel = lambda path: os.path.relpath(path, root)
        plugin_dir = os.path.join(self.prefix, "lib/natomedia/plugins")
        share_dir = os.path.join(self.prefix, "share/natomedia")
        os.makedirs(os.path.join(root, "site/core"))
        marker = "relative-templates-%d" % os.getpid()
        with open(os.path.join(share_dir, "templates/core/footer.html")) as f:
            footer = f.read()
        with open(os.path.join(root, "site/core/footer.html"), "w") as f:
            f.write(footer.replace("</footer>", "<p>%s</p></footer>" % marker))
        os.makedirs(os.path.join(root, "media"))
        os.makedirs(os.path.join(root, "feeds"))
        with open(self.sample_feed()) as f, open(os.path.join(root, "feeds/feed.xml"), "w") as g:
            g.write(f.read())
        for d in ("site", "site/core", "media", "feeds"):
            os.chmod(os.path.join(root, d), 0o755)
        ap.plugin_dir = rel(plugin_dir)
        ap.plugins = [rel(os.path.join(plugin_dir, "natomedia_media_gateway.so"))]
        ap.directives = "\n".join([
            "NatoMediaShareDir %s" % rel(share_dir),
            "NatoMediaTemplates site",
            "NatoMediaMediaRoot ./media",
            "NatoMediaFeed feeds/feed.xml"])
        ap.write_config()
        self.assertNotIn(" /", "".join(l for l in ap.config_text().splitlines()
                                       if l.startswith(("NatoMediaPluginDir", "NatoMediaPlugin ",
                                                        "NatoMediaShareDir", "NatoMediaTemplates",
                                                        "NatoMediaMediaRoot"))))
        # Started from / (not from ServerRoot, where the harness starts it): only ServerRoot
        # can make these paths good.
        elsewhere = dict(stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                         cwd="/")
        res = subprocess.run([harness.APACHE_BIN, "-f", ap.conf_path, "-t"], **elsewhere)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        res = subprocess.run([harness.APACHE_BIN, "-f", ap.conf_path, "-k", "start"], **elsewhere)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertTrue(harness.wait_until(lambda: ap.running() and harness.port_open(ap.port),
                                           30), harness.tail(ap.error_log_path))
        r = ap.client().get("/news/")
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertIn(marker, r.body)

    def test_portal_urls_skip_the_directory_walk(self):
        """The portal claims its URLs as httpd maps them (issue 18): no DocumentRoot mapping and
        no directory walk for them, so a broken .htaccess in DocumentRoot, which httpd reads for
        every file it serves there, never reaches the portal's pages."""
        ap = self.make_apache("claim", start=False, plugins=["media_gateway"], memcached=None,
                              feed=self.sample_feed())
        ap.directives = "<Directory %s>\n  AllowOverride All\n</Directory>" % ap.htdocs
        ap.write_config()
        ap.start()
        c = ap.client()
        self.assertEqual(c.get("/static.txt").status, 200)
        self.assertEqual(c.get("/news/").status, 200)
        with open(os.path.join(ap.htdocs, ".htaccess"), "w") as f:
            f.write("NotADirectiveOfAnyModule on\n")
        os.chmod(os.path.join(ap.htdocs, ".htaccess"), 0o644)
        self.assertEqual(c.get("/static.txt").status, 500)  # httpd walked into DocumentRoot
        r = c.get("/news/")
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(c.get("/news").status, 301)
        self.assertNotIn("/news", "".join(l for l in ap.error_log().splitlines()
                                          if ".htaccess" in l))

    # --- memcached --------------------------------------------------------------------------

    def test_bad_memcached_strings_fail_configtest_without_libmemcached_internals(self):
        cases = {
            "--SERVER=127.0.0.1:99999": ["`99999` is not a port (1 to 65535)"],
            "--SERVER=127.0.0.1:0": ["`0` is not a port"],
            "--SERVER=127.0.0.1:11211x": ["`11211x` is not a port"],
            "--SERVER=127.0.0.1:": ["no port after `:`"],
            "--SERVER= 127.0.0.1:11211": ["names no server"],
            "--SERVER=": ["names no server"],
            "SERVER=127.0.0.1:11211": ["is not an option"],
            "--SERVER=127.0.0.1:11211 --FROBNICATE=1": ["`--FROBNICATE=1`"],
            "--SERVER=::1:11211": ["no IPv6 address"],
            "--SERVER=[::1]:11211": ["no IPv6 address"],
            "--SERVER=cache one:11211": ["`one:11211` is not an option"],
            "--CONNECT-TIMEOUT=100": ["names no server"],
            "": [],
        }
        for value, expect in cases.items():
            with self.subTest(value=value):
                ap = self.apache("mc%d" % len(os.listdir(self.work_dir)), memcached=value)
                out = self.configtest_fails(ap, "NatoMediaMemcached", EXAMPLE, *expect)
                self.assertRegex(out, r"httpd\.conf")

    # --- plugins ----------------------------------------------------------------------------

    def test_plugins_need_their_partners(self):
        cases = {
            "authentication": ("authentication", "verification"),
            "verification": ("verification", "authentication"),
        }
        for alone, (needer, needed) in cases.items():
            with self.subTest(alone):
                ap = self.apache("only_" + alone, plugins=[alone, "newsletter"])
                self.configtest_fails(ap, "NatoMediaPlugin %s (%s:" % (needer, ap.conf_path),
                                      "the plugin '%s' needs the plugin '%s'" % (needer, needed),
                                      "add `NatoMediaPlugin %s`" % needed)

    # --- the session cache (NatoMediaSessionCache) --------------------------------------------

    def test_session_cache_directives(self):
        ap = self.apache("named_not_loaded", directives="NatoMediaSessionCache shmcb")
        self.configtest_fails(ap, "no socache provider called `shmcb` is loaded",
                              "a2enmod socache_shmcb", "NatoMediaSessionCache none")
        for bad in ("SHM!", "none:x", ":x", "Shmcb"):
            with self.subTest(bad):
                ap = self.apache("bad", directives="NatoMediaSessionCache %s" % bad)
                self.configtest_fails(ap, "NatoMediaSessionCache: takes `none` or an socache "
                                          "provider")
        for bad in ("0", "301", "2s"):
            with self.subTest(bad):
                ap = self.apache("bad_timeout", directives="NatoMediaSessionCacheTimeout " + bad)
                self.configtest_fails(ap, "NatoMediaSessionCacheTimeout")
        good = {"loaded": "NatoMediaSessionCacheTimeout 300",
                "with_args": "NatoMediaSessionCache shmcb:%s(200000)"
                             % os.path.join(self.work_dir, "sessions-shm"),
                "off": "NatoMediaSessionCache none\nNatoMediaSessionCacheTimeout 1"}
        for name, directives in good.items():
            with self.subTest(name):
                rc, out = self.apache(name, session_cache=True, directives=directives).configtest()
                self.assertEqual(rc, 0, out)
                self.assertIn("Syntax OK", out)

    def test_without_socache_the_default_is_no_cache_and_a_warning(self):
        ap = self.make_apache(session_cache=None)
        self.assertEqual(ap.client().get("/news/").status, 200)
        warnings = [line for line in ap.error_log().splitlines()
                    if "mod_socache_shmcb is not loaded" in line]
        self.assertEqual(len(warnings), 1, ap.error_log())
        self.assertIn("a2enmod socache_shmcb", warnings[0])
        self.assertIn("[natomedia:warn]", warnings[0])

    def build_plugin(self, name, source, *flags):
        src = os.path.join(self.work_dir, name + ".cc")
        so = os.path.join(self.work_dir, "natomedia_%s.so" % name)
        with open(src, "w") as f:
            f.write(source)
        subprocess.run(["g++", "-std=c++17", "-shared", "-fPIC", *flags, "-I",
                        os.path.join(self.prefix, "include"), src, "-o", so], check=True)
        return so

    def test_plugins_built_for_another_abi_are_refused_naming_both(self):
        with open(os.path.join(self.prefix, "include/natomedia/plugin.h")) as f:
            ours = int(re.search(r"#define NATOMEDIA_ABI_VERSION (\d+)u", f.read()).group(1))
        # What the compiler here uses (the core was built with it, with no ABI flag).
        probe = subprocess.run(
            ["g++", "-std=c++17", "-x", "c++", "-E", "-dM", "-include", "string", "/dev/null"],
            check=True, capture_output=True, text=True).stdout
        release = re.search(r"#define _GLIBCXX_RELEASE (\d+)", probe).group(1)
        core_lib = "libstdc++ %s with _GLIBCXX_USE_CXX11_ABI=1" % release
        # The old libstdc++ string ABI: the plugin passes every other check.
        so = self.build_plugin("old_strings", OLD_STRINGS_SOURCE, "-D_GLIBCXX_USE_CXX11_ABI=0")
        ap = self.apache("old_strings", plugins=PLUGINS + [so])
        out = self.configtest_fails(ap, so, "C++ library ABI libstdc++ %s with "
                                    "_GLIBCXX_USE_CXX11_ABI=0, but" % release,
                                    "this mod_natomedia was built for " + core_lib)
        # A plugin of the previous SDK (ABI version before this one, the old entry layout).
        so = self.build_plugin("previous_sdk", PREVIOUS_SDK_SOURCE % (ours - 1))
        ap = self.apache("previous_sdk", plugins=PLUGINS + [so])
        out = self.configtest_fails(ap, so, "built for plugin ABI version %d," % (ours - 1),
                                    "this mod_natomedia has ABI version %d;" % ours)
        # The same sources built the ordinary way pass.
        so = self.build_plugin("same_strings", OLD_STRINGS_SOURCE.replace("old_strings",
                                                                          "same_strings"))
        rc, out = self.apache("same_strings", plugins=PLUGINS + [so]).configtest()
        self.assertEqual(rc, 0, out)

    # --- log lines --------------------------------------------------------------------------

    def test_memcached_down_is_named_in_the_log(self):
        mc = self.start_memcached()
        ap = self.make_apache(plugins=["authentication", "verification"], memcached=mc)
        c = ap.client()
        mc.stop()
        pw = "Str0ng!Passw0rd#"
        r = c.submit("/account/register", {"email": "down@example.org", "password": pw,
                                            "password_confirm": pw})
        self.assertEqual(r.status, 503, r.body[:300])
        log = ap.error_log()
        line = next((l for l in log.splitlines() if "no verification code" in l), None)
        self.assertIsNotNone(line, log)
        self.assertIn("memcached", line.replace("no verification code", ""))
        self.assertIn('NatoMediaMemcached "%s"' % mc.config(), line)

    # --- status sample, redirects -----------------------------------------------------------

    def test_shipped_status_sample_answers_over_ipv6_localhost(self):
        with open(os.path.join(self.source_dir, "conf/natomedia.conf")) as f:
            sample = re.search(r"<Location /natomedia-status>.*?</Location>", f.read(), re.S)
        self.assertIsNotNone(sample)
        if not socket.has_ipv6:
            self.skipTest("no IPv6")
        port6 = harness.free_port()
        ap = self.make_apache(plugins=[], memcached=None,
                              extra_conf="Listen [::1]:%d\n<Location /status6>\n%s\n</Location>"
                              % (port6, sample.group(0).split("\n", 1)[1]
                                 .rsplit("</Location>", 1)[0]))
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                              "http://[::1]:%d/status6" % port6],
                             capture_output=True, text=True, timeout=30).stdout
        self.assertEqual(out, "200")

    def test_account_and_newsletter_without_slash_redirect(self):
        ap = self.make_apache(plugins=PLUGINS)
        c = ap.client()
        for path, status, target in (("/account", 301, "/account/"),
                                     ("/newsletter", 303, "/account/"),
                                     ("/newsletter/", 303, "/account/"),
                                     ("/news", 301, "/news/")):
            with self.subTest(path):
                r = c.get(path)
                self.assertEqual(r.status, status, r.body[:300])
                self.assertEqual(r.header("Location"), target)
        # And with a base path, the redirect stays under it.
        based = self.make_apache(name="based", plugins=PLUGINS, base_path="/portal")
        r = based.client().get("/portal/account")
        self.assertEqual((r.status, r.header("Location")), (301, "/portal/account/"))


if __name__ == "__main__":
    unittest.main()
