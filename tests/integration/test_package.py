"""The Debian packages (issue 18, CONTRACT section 14), as a Debian administrator meets them.

`dpkg-buildpackage -b -us -uc` on a copy of the source tree (once per run; NM_DEB_DIR names a
folder of .debs already built, to skip that), lintian on the result (any E: fails), then the
path docs/installing.md gives, on this machine for real:
`apt-get install ./libapache2-mod-natomedia_*.deb ./natomedia-dev_*.deb` (the module enabled by
its postinst), the secret key, the sample feed and media from the package's examples, the vhost
snippet from the examples in sites-available (on a free 127.0.0.1 port, never another
address), pages served by Debian's own configuration (mods-enabled/*, the site), then
`apt-get purge`: `apachectl configtest` still passes with the snippet still enabled, the site
still serves, and /run/apache2/natomedia-feed and the package's enabled modules are gone.

It runs as root (dpkg). Debian's apache2 service is never started nor its ports (ports.conf)
used: the served httpd is `apache2 -d /etc/apache2 -f WORK/httpd.conf`, which takes Debian's
mods-enabled and the one site, and a Listen on 127.0.0.1. The machine's state is put back
afterwards: the packages purged if still there, /etc/apache2 and /var/lib/apache2 restored from
copies taken before, and the folders the test made removed.

Time: the first dpkg-buildpackage compiles everything (about 18 min on the shared 2-CPU machine
under load); later runs build in the same folder (BUILD/debian-package/src) with ccache, when
installed, and the whole test takes about 70 s. Lintian, install, serve and purge take 30 s.
"""
# ctest-resource-lock: heavy
# ctest-timeout: 1800

import glob
import grp
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import IntegrationTest

PACKAGES = ("libapache2-mod-natomedia", "natomedia-dev")
PLUGINS = ("authentication", "verification", "newsletter", "media_gateway")
DOC = "/usr/share/doc/libapache2-mod-natomedia"
EXAMPLES = DOC + "/examples"
# Paths each package must hold (CONTRACT sections 1 and 14).
MODULE_PATHS = [
    "/usr/lib/apache2/modules/mod_natomedia.so",
    *("/usr/lib/natomedia/plugins/natomedia_%s.so" % p for p in PLUGINS),
    "/usr/share/natomedia/schemas/natomedia-feed.xsd",
    "/usr/share/natomedia/templates/core/header.html",
    "/usr/bin/natomedia-admin",
    "/usr/share/man/man1/natomedia-admin.1.gz",
    "/etc/apache2/mods-available/natomedia.load",
    "/etc/apache2/mods-available/natomedia.conf",
    DOC + "/copyright",
    DOC + "/changelog.Debian.gz",
]
DEV_PATHS = [
    "/usr/include/natomedia/plugin.h",
    "/usr/lib/cmake/NatoMedia/NatoMediaConfig.cmake",
]
# What the package leaves on the machine must be restorable: these are put back as they were.
RESTORED_TREES = ("/etc/apache2", "/var/lib/apache2")
RUNTIME_DIR = "/run/apache2"
FEED_RUNTIME = RUNTIME_DIR + "/natomedia-feed"
# Left out of the copy dpkg-buildpackage works on: builds, VCS, node modules, test output.
COPY_IGNORE = shutil.ignore_patterns(".git", "build", "build-*", "obj-*", "node_modules",
                                     "__pycache__", "*.pyc", "artifacts", "demo", ".debhelper")


def run(cmd, timeout=900, ok=(0,), **kw):
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=timeout, **kw)
    if res.returncode not in ok:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(cmd), res.returncode,
                                                          res.stdout[-4000:], res.stderr[-4000:]))
    return res


def apt_env():
    return dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C.UTF-8")


def package_state(package):
    """'ii' installed, 'rc' removed with conffiles left, '' not known to dpkg."""
    res = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return res.stdout.strip() if res.returncode == 0 else ""


def build_debs(source, out_root):
    """dpkg-buildpackage -b -us -uc on a copy of `source` in out_root/src; the .debs land in
    out_root. The copy's path stays the same from run to run, so that ccache (when installed)
    finds its objects again: dpkg-buildflags puts the path in -ffile-prefix-map."""
    src = os.path.join(out_root, "src")
    shutil.rmtree(out_root, ignore_errors=True)
    os.makedirs(out_root)
    shutil.copytree(source, src, ignore=COPY_IGNORE, symlinks=True)
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=%d" % min(os.cpu_count() or 1, 4),
               LC_ALL="C.UTF-8")
    for name in ("NM_PREFIX", "NM_SOURCE_DIR", "NM_BUILD_DIR", "NM_TEST_WORK"):
        env.pop(name, None)
    if shutil.which("ccache"):
        # CMake reads these from the environment (3.17+); dh_auto_configure passes none.
        env.setdefault("CMAKE_C_COMPILER_LAUNCHER", "ccache")
        env.setdefault("CMAKE_CXX_COMPILER_LAUNCHER", "ccache")
        env.setdefault("CCACHE_BASEDIR", out_root)
        env.setdefault("CCACHE_NOHASHDIR", "1")
    res = subprocess.run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=src, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=1500)
    with open(os.path.join(out_root, "dpkg-buildpackage.log"), "w") as f:
        f.write(res.stdout)
    if res.returncode != 0:
        raise AssertionError("dpkg-buildpackage -b failed (%d), log %s:\n%s"
                             % (res.returncode, os.path.join(out_root, "dpkg-buildpackage.log"),
                                res.stdout[-6000:]))
    return out_root


def find_debs(folder):
    debs = {}
    for package in PACKAGES:
        found = sorted(glob.glob(os.path.join(folder, "%s_*.deb" % package)))
        if len(found) != 1:
            raise AssertionError("%s: expected one %s_*.deb, found %s" % (folder, package, found))
        debs[package] = found[0]
    return debs


class PackageTest(IntegrationTest):
    debs = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("installs packages: runs as root")
        for tool in ("dpkg-buildpackage", "lintian", "apt-get", "a2ensite", "apache2ctl"):
            if not shutil.which(tool):
                raise unittest.SkipTest("%s is not installed (scripts/install-deps.sh)" % tool)
        here = [p for p in PACKAGES if package_state(p)]
        if here:
            raise unittest.SkipTest("%s already known to dpkg on this machine: not touching "
                                    "an administrator's install" % ", ".join(here))
        folder = os.environ.get("NM_DEB_DIR")
        if not folder:
            build = os.environ.get("NM_BUILD_DIR") or tempfile.mkdtemp(prefix="nm-deb-")
            source = os.environ.get("NM_SOURCE_DIR") or os.path.dirname(
                os.path.dirname(harness.HERE))
            folder = build_debs(source, os.path.join(build, "debian-package"))
        cls.deb_dir = folder
        cls.debs = find_debs(folder)

    # --- the archives -------------------------------------------------------------------------

    def test_lintian_reports_no_error(self):
        changes = sorted(glob.glob(os.path.join(self.deb_dir, "*.changes")))
        targets = changes[-1:] or list(self.debs.values())
        res = run(["lintian", "--tag-display-limit", "0", "--display-info"] + targets,
                  timeout=600, ok=(0, 1, 2))
        out = res.stdout + res.stderr
        errors = [line for line in out.splitlines() if line.startswith("E:")]
        self.assertEqual(errors, [], out)
        # What lintian still says is listed in the test output, for docs/installing.md.
        print("\nlintian:\n" + (out.strip() or "(nothing)"))

    def test_contents_and_control_fields(self):
        listing = {}
        for package, deb in self.debs.items():
            out = run(["dpkg-deb", "-c", deb]).stdout
            listing[package] = {re.sub(r"^\.", "", line.split()[5]) for line in out.splitlines()}
        for path in MODULE_PATHS:
            self.assertIn(path, listing["libapache2-mod-natomedia"])
        for path in DEV_PATHS:
            self.assertIn(path, listing["natomedia-dev"])
            self.assertNotIn(path, listing["libapache2-mod-natomedia"])
        examples = [p for p in listing["libapache2-mod-natomedia"] if p.startswith(EXAMPLES)]
        self.assertTrue(any(re.search(r"sample-feed\.xml(\.gz)?$", p) for p in examples),
                        examples)
        self.assertTrue(any(p.endswith(".mp4") for p in examples), examples)

        fields = run(["dpkg-deb", "-f", self.debs["libapache2-mod-natomedia"]]).stdout
        self.assertRegex(fields, r"(?m)^Version: 2\.0\.0-\d")
        depends = re.search(r"(?m)^Depends: (.*)$", fields).group(1)
        # ${apache2:Depends}: the module API the .so was built against.
        self.assertRegex(depends, r"apache2-api-\d+")
        for lib in ("libmemcached11", "libargon2-1", "libxml2", "libcurl4", "libssl3"):
            self.assertIn(lib, depends)

        control = os.path.join(self.work_dir, "control")
        run(["dpkg-deb", "-e", self.debs["libapache2-mod-natomedia"], control])
        scripts = ""
        for name in ("postinst", "prerm", "postrm"):
            path = os.path.join(control, name)
            self.assertTrue(os.access(path, os.X_OK), name)
            run(["sh", "-n", path])
            with open(path) as f:
                scripts += f.read()
        self.assertIn("apache2-maintscript-helper", scripts)
        self.assertNotRegex(scripts, r"(?m)^[^#]*\ba2(dis|en)mod\b", "a2enmod/a2dismod called "
                            "directly instead of apache2_invoke")

        # The hardening dpkg-buildflags asks for (hardening=+all): PIE/relro/now, fortify.
        unpacked = os.path.join(self.work_dir, "unpacked")
        run(["dpkg-deb", "-x", self.debs["libapache2-mod-natomedia"], unpacked])
        so = os.path.join(unpacked, "usr/lib/apache2/modules/mod_natomedia.so")
        dyn = run(["readelf", "-d", "-W", so]).stdout
        self.assertRegex(dyn, r"BIND_NOW|FLAGS.*\bNOW\b", "linked without -z now")
        self.assertIn("GNU_RELRO", run(["readelf", "-l", "-W", so]).stdout)
        symbols = run(["readelf", "--dyn-syms", "-W", so]).stdout
        self.assertRegex(symbols, r"__\w+_chk@", "no _FORTIFY_SOURCE checks in the module")

    # --- on the machine, as docs/installing.md says -------------------------------------------

    def _snapshot_machine(self):
        """Copies of what installing touches; addCleanup puts them back (in reverse order)."""
        saved = os.path.join(self.work_dir, "saved")
        os.makedirs(saved)
        for tree in RESTORED_TREES:
            if os.path.isdir(tree):
                shutil.copytree(tree, saved + tree, symlinks=True)
        made = [p for p in ("/var/lib/natomedia", RUNTIME_DIR) if not os.path.exists(p)]

        def restore():
            # One dpkg call for both: natomedia-dev may depend on the module package.
            left = [p for p in PACKAGES if package_state(p)]
            if left:
                res = subprocess.run(["dpkg", "--purge"] + left, env=apt_env(),
                                     stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                     timeout=300)
                if res.returncode != 0:
                    print("\ntest_package: dpkg --purge %s failed: %s%s"
                          % (" ".join(left), res.stdout, res.stderr))
            for tree in RESTORED_TREES:
                if os.path.isdir(saved + tree):
                    shutil.rmtree(tree, ignore_errors=True)
                    shutil.copytree(saved + tree, tree, symlinks=True)
            shutil.rmtree(FEED_RUNTIME, ignore_errors=True)
            for path in made:
                shutil.rmtree(path, ignore_errors=True)
        self.addCleanup(restore)

    def _apt(self, *args):
        return run(["apt-get", "-y", "-o", "DPkg::Lock::Timeout=300", "--no-install-recommends"]
                   + list(args), env=apt_env(), timeout=600)

    def _serve(self, port):
        """Debian's configuration without ports.conf: its mods-enabled and the one site, a
        Listen on 127.0.0.1 only. Returns a harness-like handle (start, stop, url)."""
        work = harness.make_dir(os.path.join(self.work_dir, "httpd-%d" % port))
        pid_file = os.path.join(work, "httpd.pid")
        conf = os.path.join(work, "httpd.conf")
        error_log = os.path.join(work, "error.log")
        with open(conf, "w") as f:
            f.write("\n".join([
                "# test_package: Debian's /etc/apache2 layout, without ports.conf",
                "ServerRoot /etc/apache2",
                "ServerName 127.0.0.1",
                "DefaultRuntimeDir %s" % RUNTIME_DIR,
                "PidFile %s" % pid_file,
                "Mutex file:%s default" % work,
                "User www-data", "Group www-data",
                "ErrorLog %s" % error_log,
                "LogLevel warn",
                # What Debian's envvars gives apache2ctl, for mods-enabled/*.conf and the site.
                "Define APACHE_RUN_DIR %s" % RUNTIME_DIR,
                "Define APACHE_LOCK_DIR %s" % work,
                "Define APACHE_LOG_DIR %s" % work,
                "Define APACHE_RUN_USER www-data", "Define APACHE_RUN_GROUP www-data",
                "IncludeOptional mods-enabled/*.load",
                "IncludeOptional mods-enabled/*.conf",
                "<Directory />", "  AllowOverride None", "  Require all denied", "</Directory>",
                "<Directory /var/www/>", "  Require all granted", "</Directory>",
                "Listen 127.0.0.1:%d" % port,
                "IncludeOptional sites-enabled/natomedia.conf",
                ""]))
        os.chmod(conf, 0o644)

        class Server:
            def __init__(s):
                s.port, s.conf, s.pid_file, s.error_log = port, conf, pid_file, error_log

            def start(s):
                res = subprocess.run([harness.APACHE_BIN, "-d", "/etc/apache2", "-f", conf,
                                      "-k", "start"], capture_output=True, text=True,
                                     stdin=subprocess.DEVNULL, timeout=60)
                if res.returncode != 0 or not harness.wait_until(
                        lambda: harness.port_open(port), 30):
                    raise AssertionError("httpd did not start (%d): %s%s\n%s" % (
                        res.returncode, res.stdout, res.stderr, harness.tail(error_log)))
                return s

            def stop(s):
                try:
                    with open(pid_file) as f:
                        pid = int(f.read().strip())
                except (OSError, ValueError):
                    return
                harness.kill_pid(pid)
                harness.wait_until(lambda: not harness.port_open(port, timeout=0.2), 10)

            def client(s):
                return harness.Client("http://127.0.0.1:%d" % port)

        server = Server()
        self.addCleanup(server.stop)
        return server

    def _configtest(self):
        """`apachectl configtest` on the machine's own configuration."""
        res = subprocess.run(["apachectl", "configtest"], capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=120)
        return res.returncode, res.stdout + res.stderr

    def test_install_serve_purge(self):
        rc, out = self._configtest()
        if rc != 0:
            self.skipTest("this machine's Apache fails configtest before the test: " + out)
        self._snapshot_machine()
        os.makedirs(RUNTIME_DIR, exist_ok=True)
        memcached = self.start_memcached()
        dbd_enabled = lambda: os.path.lexists("/etc/apache2/mods-enabled/dbd.load")  # noqa: E731
        dbd_before = dbd_enabled()

        # 1. apt-get install ./….deb: the module is enabled by the package itself.
        self._apt("install", *[os.path.abspath(d) for d in self.debs.values()])
        for path in MODULE_PATHS + DEV_PATHS:
            self.assertTrue(os.path.exists(path), path)
        self.assertTrue(os.path.islink("/etc/apache2/mods-enabled/natomedia.load"),
                        "the package did not enable the module")
        # If the package enables mod_dbd, its purge must disable it again (checked below).
        dbd_by_package = dbd_enabled() and not dbd_before
        rc, out = self._configtest()
        self.assertEqual(rc, 0, out)

        # 2. docs/installing.md: the secret key, the sample feed and media, the site.
        # The package made the key (installing.md, step 3): one line, root:www-data 0640.
        key = "/etc/apache2/natomedia.key"
        self.assertTrue(os.path.isfile(key), "the package made no secret key")
        st = os.stat(key)
        self.assertEqual(st.st_mode & 0o777, 0o640)
        self.assertEqual(st.st_gid, grp.getgrnam(harness.RUN_USER).gr_gid)
        with open(key) as f:
            self.assertGreaterEqual(len(f.readline().strip()), 32)
        snippet = self._example("natomedia-vhost.conf")
        self.assertIn("<IfModule natomedia_module>", snippet)
        feed_path = self._directive(snippet, "NatoMediaFeed")
        media_root = self._directive(snippet, "NatoMediaMediaRoot")
        os.makedirs(os.path.dirname(feed_path), exist_ok=True)
        with open(feed_path, "w") as f:
            f.write(self._example("sample-feed.xml"))
        media = os.path.join(EXAMPLES, "media")
        self.assertTrue(os.path.isdir(media), "no media in the examples")
        shutil.rmtree(media_root, ignore_errors=True)
        shutil.copytree(media, media_root)
        for gz in glob.glob(os.path.join(media_root, "**/*.gz"), recursive=True):
            run(["gunzip", "-f", gz])
        # The feed must verify against what the package shipped.
        run(["natomedia-admin", "feed", "validate", feed_path], ok=(0,))

        port = harness.free_port()
        # Only 127.0.0.1: the snippet's *:80 becomes this test's port on the loopback.
        site = re.sub(r"<VirtualHost [^>]*>", "<VirtualHost 127.0.0.1:%d>" % port, snippet)
        site = re.sub(r"(?mi)^(\s*NatoMediaMemcached\s+).*$",
                      lambda m: m.group(1) + '"%s"' % memcached.config(), site)
        site = re.sub(r"(?mi)^(\s*NatoMediaPublicURL\s+).*$",
                      lambda m: m.group(1) + "http://127.0.0.1:%d" % port, site)
        if not re.search(r"(?mi)^\s*NatoMediaMemcached", site):
            site = re.sub(r"(?m)^<IfModule natomedia_module>[ \t]*$",
                          lambda m: m.group(0) + '\n    NatoMediaMemcached "%s"'
                          % memcached.config(), site, count=1)
            self.assertIn(memcached.config(), site)
        mail = harness.make_dir(os.path.join(self.work_dir, "mail"), owner=harness.RUN_USER)
        site = re.sub(r"(?mi)^(\s*)#?\s*NatoMediaMailTransport\s+.*$",
                      lambda m: m.group(1) + "NatoMediaMailTransport file://%s" % mail, site)
        with open("/etc/apache2/sites-available/natomedia.conf", "w") as f:
            f.write(site)
        run(["a2enmod", "dbd"])  # as installing.md says: the accounts' SQL connections
        run(["a2ensite", "natomedia"])
        rc, out = self._configtest()
        self.assertEqual(rc, 0, out)

        # 3. Pages served by Debian's configuration with the package's module.
        server = self._serve(port).start()
        client = server.client()
        news = client.get("/news/")
        self.assertEqual(news.status, 200, news.body[:2000])
        self.assertIn("Sweden", news.body)
        videos = client.get("/videos/")
        self.assertEqual(videos.status, 200)
        video = re.search(r'href="(/videos/(?!feed\.)[^"/?#]+)"', videos.body)
        self.assertIsNotNone(video, videos.body[:2000])
        thumb = client.get(video.group(1) + "/thumbnail")
        self.assertEqual(thumb.status, 200)
        self.assertEqual(thumb.header("Content-Type"), "image/jpeg")
        login = client.get("/account/login")
        self.assertEqual(login.status, 200)
        self.assertTrue(os.path.isdir(FEED_RUNTIME), "the shared feed dir was not made")
        server.stop()

        # 4. apt-get purge: Apache still configtests and serves with the site left enabled.
        self._apt("purge", *PACKAGES)
        for package in PACKAGES:
            self.assertEqual(package_state(package), "", package)
        for path in MODULE_PATHS + DEV_PATHS:
            self.assertFalse(os.path.exists(path), path)
        self.assertFalse(os.path.exists(FEED_RUNTIME), "purge left %s" % FEED_RUNTIME)
        self.assertFalse(os.path.exists(key), "purge left the key the package made")
        self.assertFalse(os.path.lexists("/etc/apache2/mods-enabled/natomedia.load"))
        self.assertFalse(os.path.exists("/var/lib/apache2/module/enabled_by_maint/dbd"),
                         "the package left dbd enabled")
        if dbd_by_package:
            self.assertFalse(dbd_enabled(), "the package enabled dbd and its purge left it")
        self.assertTrue(os.path.islink("/etc/apache2/sites-enabled/natomedia.conf"))
        rc, out = self._configtest()
        self.assertEqual(rc, 0, out)
        self.assertIn("Syntax OK", out)
        server = self._serve(port).start()
        self.assertEqual(server.client().get("/news/").status, 404)
        server.stop()

    # --- helpers ------------------------------------------------------------------------------

    def _example(self, name):
        for path in (os.path.join(EXAMPLES, name), os.path.join(EXAMPLES, name + ".gz")):
            if os.path.exists(path):
                if path.endswith(".gz"):
                    return run(["zcat", path]).stdout
                with open(path) as f:
                    return f.read()
        raise AssertionError("%s: no %s in the package's examples (%s)" % (
            name, name, sorted(os.listdir(EXAMPLES)) if os.path.isdir(EXAMPLES) else "none"))

    def _directive(self, text, name):
        m = re.search(r"(?mi)^\s*%s\s+\"?([^\"\s]+)" % name, text)
        self.assertIsNotNone(m, "%s not in the vhost example" % name)
        return m.group(1)


if __name__ == "__main__":
    unittest.main()
