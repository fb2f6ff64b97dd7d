"""Attack surface behind a TLS-terminating proxy (CONTRACT section 12, "Proxies").

The usual deployment: a proxy ends TLS and forwards plain HTTP to httpd with X-Forwarded-For and
X-Forwarded-Proto. The administrator sets up mod_remoteip (the client address is the one the
trusted proxy names) and `SetEnvIf X-Forwarded-Proto ^https$ HTTPS=on` (docs/operations.md).
Then cookies must keep `Secure` and the `__Host-` prefix, and every per-client limit must count
the forwarded client, not the proxy. A visitor who is not the trusted proxy cannot pick their
address with the header.

Seen before the fix (issue 16): behind the proxy, cookies lost Secure and __Host-.
"""

import os
import unittest

import harness
from harness import IntegrationTest

MODULES = harness.APACHE_MODULES
PROXY_CONF = """
LoadModule remoteip_module {m}/mod_remoteip.so
LoadModule setenvif_module {m}/mod_setenvif.so
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
SetEnvIf X-Forwarded-Proto ^https$ HTTPS=on
LoadModule authn_core_module {m}/mod_authn_core.so
<Files static.txt>
  AuthType natomedia
  Require natomedia-account
</Files>
""".format(m=MODULES)
GOOD_PASSWORD = "Correct-Horse7!"


def via_proxy(client, forwarded_for="203.0.113.10", proto="https"):
    """What the proxy adds to every request of this browser."""
    client.default_headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": proto}
    return client


@unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class BehindTlsProxyTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.apache = self.make_apache(plugins=["authentication", "verification"],
                                       extra_conf=PROXY_CONF,
                                       public_url="https://portal.example.org")

    def make_verified(self, client, address):
        r = client.submit("/account/register", {"email": address, "password": GOOD_PASSWORD,
                                                "password_confirm": GOOD_PASSWORD})
        self.assertEqual(r.status, 303, r.body[:500])
        self.apache.sql("UPDATE accounts SET state = 'verified' WHERE email = ?", (address,))

    def assert_host_cookie(self, client, name):
        attrs = client.cookie_attrs.get("__Host-" + name)
        self.assertIsNotNone(attrs, "no __Host-%s cookie; got %s" % (name, client.cookie_attrs))
        parts = [p.strip() for p in attrs.split(";")]
        self.assertIn("Secure", parts, attrs)
        self.assertIn("Path=/", parts, attrs)
        self.assertFalse(any(p.lower().startswith("domain=") for p in parts), attrs)
        self.assertNotIn(name, client.cookies)  # never the plain name as well

    def test_cookies_keep_secure_and_host_prefix(self):
        c = via_proxy(self.apache.client())
        page = c.get("/account/login")
        self.assertEqual(page.status, 200)
        self.assert_host_cookie(c, "nm_csrf")
        self.make_verified(c, "proxied@example.org")
        r = c.submit("/account/login", {"email": "proxied@example.org",
                                        "password": GOOD_PASSWORD})
        self.assertEqual(r.status, 303, r.body[:500])
        self.assert_host_cookie(c, "nm_session")
        self.assertEqual(c.get("/account/").status, 200)  # the __Host- session is read back
        fr = c.get("/account/?lang=fr")  # signed in: /account/login would redirect here
        self.assert_host_cookie(c, "nm_lang")
        self.assertIn('lang="fr"', fr.body)

    def test_httpd_knows_the_visitor_behind_the_proxy(self):
        """The __Host- session names the visitor for httpd too (r->user, AuthType natomedia):
        the module asks after mod_remoteip and mod_setenvif have run."""
        c = via_proxy(self.apache.client(), "203.0.113.20")
        self.assertEqual(c.get("/static.txt", headers={"Accept": "text/html"}).status, 303)
        c.get("/account/login")
        self.make_verified(c, "known@example.org")
        r = c.submit("/account/login", {"email": "known@example.org", "password": GOOD_PASSWORD})
        self.assertEqual(r.status, 303, r.body[:500])
        self.assert_host_cookie(c, "nm_session")
        gated = c.get("/static.txt", headers={"Accept": "text/html"})
        self.assertEqual(gated.status, 200, gated.headers)
        log = harness.wait_until(
            lambda: [l for l in self.apache.access_log().splitlines() if "GET /static.txt" in l
                     and " 200 " in l], 5)
        self.assertTrue(log, self.apache.access_log())
        self.assertTrue(log[-1].startswith("203.0.113.20 - known@example.org "), log[-1])

    def test_plain_http_through_the_proxy_has_no_secure_cookies(self):
        """The switch is the proxy's word (X-Forwarded-Proto), not a guess."""
        c = via_proxy(self.apache.client(), proto="http")
        c.get("/account/login")
        self.assertIn("nm_csrf", c.cookies)
        self.assertNotIn("Secure", c.cookie_attrs["nm_csrf"])

    def test_limits_count_the_forwarded_client(self):
        for i in range(10):
            r = via_proxy(self.apache.client(), "203.0.113.7").submit(
                "/account/login", {"email": "user%d@example.org" % i,
                                   "password": "Wrong-Password1!"})
            self.assertEqual(r.status, 401, "attempt %d" % (i + 1))
        same = via_proxy(self.apache.client(), "203.0.113.7").submit(
            "/account/login", {"email": "fresh@example.org", "password": "Wrong-Password1!"})
        self.assertEqual(same.status, 429)
        # Another visitor behind the same proxy is not limited by the first one's failures.
        other = via_proxy(self.apache.client(), "203.0.113.8").submit(
            "/account/login", {"email": "fresh@example.org", "password": "Wrong-Password1!"})
        self.assertEqual(other.status, 401)
        self.assertIn("203.0.113.7 ", self.apache.access_log())  # %h is the forwarded client

    def test_untrusted_sender_cannot_choose_its_address(self):
        """From 127.0.0.2 (not the trusted proxy) X-Forwarded-For is ignored: a new header value
        for every attempt does not escape the per-client limit."""
        for i in range(10):
            c = via_proxy(self.apache.client(), "198.51.100.%d" % (i + 1))
            c.source_address = ("127.0.0.2", 0)
            r = c.submit("/account/login", {"email": "user%d@example.org" % i,
                                            "password": "Wrong-Password1!"})
            self.assertEqual(r.status, 401, "attempt %d" % (i + 1))
        c = via_proxy(self.apache.client(), "198.51.100.99")
        c.source_address = ("127.0.0.2", 0)
        r = c.submit("/account/login", {"email": "fresh@example.org",
                                        "password": "Wrong-Password1!"})
        self.assertEqual(r.status, 429)


if __name__ == "__main__":
    unittest.main()
