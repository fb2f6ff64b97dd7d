"""The Debian package (issue 9, CONTRACT section 1): cpack on the tests' own build (the package
installs under /usr whatever the build's prefix), the .deb's contents, control fields and
maintainer scripts,
then the package unpacked into a throwaway root next to a copy of Debian's /etc/apache2 (what
the apache2 dependency installs): its postinst run there (DPKG_ROOT), `a2enmod natomedia`, and
`apache2ctl configtest` on that root with the package's paths moved into it.
"""
# ctest-resource-lock: heavy
# ctest-timeout: 600

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import IntegrationTest

PLUGINS = ("authentication", "verification", "newsletter", "media_gateway")
CONTRACT_PATHS = [
    "./usr/lib/apache2/modules/mod_natomedia.so",
    *("./usr/lib/natomedia/plugins/natomedia_%s.so" % p for p in PLUGINS),
    "./usr/include/natomedia/plugin.h",
    "./usr/lib/cmake/NatoMedia/NatoMediaConfig.cmake",
    "./usr/share/natomedia/schemas/natomedia-feed.xsd",
    "./usr/share/natomedia/templates/core/header.html",
    "./usr/share/natomedia/conf/natomedia.load",
    "./usr/share/natomedia/conf/natomedia.conf",
    "./usr/bin/natomedia-admin",
    "./usr/share/man/man1/natomedia-admin.1",
    "./etc/apache2/mods-available/natomedia.load",
    "./etc/apache2/mods-available/natomedia.conf",
]
LIBRARY_DEPENDS = ("apache2", "libaprutil1-dbd-sqlite3", "libmemcached11", "libargon2-1",
                   "libxml2", "libcurl4", "libssl3")


def run(cmd, timeout=900, **kw):
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=timeout, **kw)
    if res.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(cmd), res.returncode,
                                                          res.stdout[-4000:], res.stderr[-4000:]))
    return res.stdout


class PackageTest(IntegrationTest):
    deb = None

    @classmethod
    def setUpClass(cls):
        # The package is made from the build the other tests use (CPack installs under /usr
        # whatever the build's prefix): nothing is compiled again.
        build = os.environ.get("NM_BUILD_DIR")
        if not build:
            raise unittest.SkipTest("NM_BUILD_DIR is not set: run through ctest")
        cls.build = tempfile.mkdtemp(prefix="nm-pkg-")
        run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"),
             "-B", cls.build], cwd=cls.build, timeout=600)
        cls.addClassCleanup(shutil.rmtree, cls.build, True)
        debs = [n for n in os.listdir(cls.build) if n.endswith(".deb")]
        if len(debs) != 1:
            raise AssertionError("cpack made %s" % debs)
        cls.deb = os.path.join(cls.build, debs[0])

    # --- the archive --------------------------------------------------------------------------

    def test_contents_hold_the_contract_layout_and_man_page(self):
        listing = run(["dpkg-deb", "-c", self.deb])
        paths = {line.split()[-1] if " -> " not in line else line.split()[-3]
                 for line in listing.splitlines()}
        for path in CONTRACT_PATHS:
            self.assertIn(path, paths)
        self.assertFalse([p for p in paths if not (p.startswith("./usr/") or
                                                   p.startswith("./etc/apache2/") or
                                                   p in ("./", "./etc/"))], paths)
        self.assertRegex(listing, r"-rwxr-xr-x root/root .* \./usr/bin/natomedia-admin")

    def test_control_fields_and_maintainer_scripts(self):
        fields = run(["dpkg-deb", "-f", self.deb])
        self.assertRegex(fields, r"(?m)^Package: libapache2-mod-natomedia$")
        self.assertRegex(fields, r"(?m)^Version: \d+\.\d+\.\d+")
        depends = re.search(r"(?m)^Depends: (.*)$", fields).group(1)
        names = {d.strip().split(" ")[0] for d in depends.split(",")}
        for name in LIBRARY_DEPENDS:
            self.assertIn(name, names, depends)
        control = os.path.join(self.work_dir, "control")
        run(["dpkg-deb", "-e", self.deb, control])
        with open(os.path.join(control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/apache2/mods-available/natomedia.load",
                                                "/etc/apache2/mods-available/natomedia.conf"])
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(control, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            run(["sh", "-n", path])

    # --- installed on a clean root ------------------------------------------------------------

    def test_unpacked_package_enables_and_configtests(self):
        root = os.path.join(self.work_dir, "root")
        os.makedirs(os.path.join(root, "etc"))
        # What the apache2 dependency installs: Debian's own configuration, as shipped.
        shutil.copytree("/etc/apache2", os.path.join(root, "etc/apache2"), symlinks=True)
        run(["dpkg-deb", "-x", self.deb, root])
        control = os.path.join(self.work_dir, "control")
        run(["dpkg-deb", "-e", self.deb, control])
        env = dict(os.environ, DPKG_ROOT=root)
        run([os.path.join(control, "postinst"), "configure"], env=env)
        key = os.path.join(root, "etc/apache2/natomedia.key")
        self.assertGreaterEqual(os.path.getsize(key), 33)
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o640)
        self.assertTrue(os.path.isdir(os.path.join(root, "var/lib/natomedia")))

        # The package's absolute paths, moved into the root (dpkg -x cannot install to /).
        available = os.path.join(root, "etc/apache2/mods-available")
        for name in ("natomedia.load", "natomedia.conf"):
            path = os.path.join(available, name)
            with open(path) as f:
                text = f.read()
            for absolute in ("/usr/lib/apache2/modules/mod_natomedia.so",
                             "/etc/apache2/natomedia.key", "/var/lib/natomedia"):
                text = text.replace(absolute, root + absolute)
            # No NatoMediaPluginDir/ShareDir: the module finds its plugins and share dir next
            # to where it is installed, here inside the root.
            with open(path, "w") as f:
                f.write(text)
        with open(os.path.join(available, "natomedia.load")) as f:
            self.assertIn("# Depends: dbd", f.read())

        confdir = os.path.join(root, "etc/apache2")
        # APACHE_HTTPD: apache2ctl runs the harness's httpd (scripts/check-sanitizers.sh swaps in
        # a wrapper that preloads the sanitizer runtime for a sanitized module).
        env = dict(os.environ, APACHE_CONFDIR=confdir, APACHE_HTTPD=harness.APACHE_BIN,
                   APACHE_STATE_DIRECTORY=os.path.join(root, "var/lib/apache2"))
        out = run(["a2enmod", "natomedia"], env=env)
        self.assertIn("natomedia", out)
        enabled = os.path.join(confdir, "mods-enabled")
        for name in ("natomedia.load", "natomedia.conf", "dbd.load"):  # dbd: the Depends line
            self.assertTrue(os.path.islink(os.path.join(enabled, name)), name)
        res = subprocess.run(["apache2ctl", "configtest"], env=env, capture_output=True,
                             text=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("Syntax OK", res.stdout + res.stderr)
        # And the configtest really loaded the module: a bad value in its conf is refused.
        conf = os.path.join(available, "natomedia.conf")
        with open(conf, "a") as f:
            f.write("NatoMediaCodeLifetime soon\n")
        res = subprocess.run(["apache2ctl", "configtest"], env=env, capture_output=True,
                             text=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("NatoMediaCodeLifetime", res.stdout + res.stderr)


if __name__ == "__main__":
    unittest.main()
