"""Attack: read or replace the secret file (CONTRACT section 12, "The secret file").

Whoever reads NatoMediaSecretFile can forge every CSRF token, signed download link and
unsubscribe link; whoever writes it can replace the keys. httpd refuses to start when every user
may read it (o+r), or anyone but its owner may write it (g+w, o+w), with a message that names the
file, its mode in octal and the chmod that fixes it. 0600 (owner only) and 0640 (owner, plus
httpd's group reading it, the Debian way) are accepted.

Seen before the fix (issue 16): a world-readable file was only warned about, and a group-writable
one was accepted silently.
"""

import os
import secrets
import unittest

import harness
from harness import IntegrationTest


@unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class SecretFileModeTest(IntegrationTest):

    def secret(self, name, mode):
        path = os.path.join(self.work_dir, name)
        with open(path, "wb") as f:
            f.write(secrets.token_bytes(64))
        os.chmod(path, mode)
        return path

    def apache(self, name, secret_file):
        return harness.Apache(self.prefix, os.path.join(self.work_dir, name), plugins=[],
                              secret_file=secret_file)

    def test_open_modes_are_refused_with_the_fix(self):
        cases = [(0o644, "chmod 640"), (0o620, "chmod 600"), (0o604, "chmod 600"),
                 (0o660, "chmod 640"), (0o602, "chmod 600"), (0o666, "chmod 640")]
        for mode, fix in cases:
            with self.subTest(mode=oct(mode)):
                path = self.secret("key-%o" % mode, mode)
                rc, out = self.apache("ap-%o" % mode, path).configtest()
                self.assertNotEqual(rc, 0, out)
                self.assertIn("NatoMediaSecretFile", out)
                self.assertIn(path, out)
                self.assertIn("mode 0%o" % mode, out)
                self.assertIn("`%s %s`" % (fix, path), out)
                self.assertNotIn("Syntax OK", out)

    def test_start_is_refused_too(self):
        ap = self.apache("start", self.secret("world.key", 0o644))
        with self.assertRaises(harness.HarnessError) as caught:
            ap.start()
        self.assertIn("chmod 640", str(caught.exception))
        self.assertFalse(ap.running())

    def test_private_modes_are_accepted(self):
        for mode in (0o600, 0o640, 0o400, 0o440):
            with self.subTest(mode=oct(mode)):
                rc, out = self.apache("ok-%o" % mode, self.secret("ok-%o.key" % mode, mode)).configtest()
                self.assertEqual(rc, 0, out)
                self.assertIn("Syntax OK", out)
                self.assertNotIn("chmod", out)

    def test_harness_secret_is_accepted(self):
        """The harness's own secret (0640 root:www-data) is what the docs recommend."""
        ap = self.apache("harness", None)
        self.assertEqual(os.stat(ap.secret_file).st_mode & 0o777, 0o640)
        rc, out = ap.configtest()
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
