"""Who is signed in, for httpd (CONTRACT section 14): r->user and NATOMEDIA_ACCOUNT_* for every
request with a session, `AuthType natomedia` with `Require natomedia-account [newsletter]`
gating what httpd itself serves (a static folder, a mod_proxy backend, a CGI script, an
.htaccess folder), and `NatoMediaRemoteUser id`.

The accounts are made the way a visitor makes them (register, the code from the mail, verify);
the backend is a tiny http.server on 127.0.0.1 that echoes the X-Account header it received.
"""
# ctest-timeout: 900

import base64
import hashlib
import http.server
import json
import os
import re
import threading
import urllib.parse

import harness
import portal_flows
from harness import IntegrationTest

PLUGINS = ("authentication", "verification", "newsletter")
PAGE = "<!doctype html><title>members</title><p>members only page</p>\n"
CGI_SCRIPT = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'REMOTE_USER=%s\\n' "$REMOTE_USER"
printf 'AUTH_TYPE=%s\\n' "$AUTH_TYPE"
printf 'NATOMEDIA_ACCOUNT_ID=%s\\n' "$NATOMEDIA_ACCOUNT_ID"
printf 'NATOMEDIA_ACCOUNT_EMAIL=%s\\n' "$NATOMEDIA_ACCOUNT_EMAIL"
"""
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
API = {"Accept": "application/json"}


class EchoBackend:
    """An application behind mod_proxy: answers every GET with the X-Account header it got."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                body = json.dumps({"x_account": self.headers.get("X-Account"),
                                   "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def gated_conf(htdocs, backend_port):
    """The modules and areas the tests use: every area gated with AuthType natomedia."""
    mods = ["authn_core", "authz_user", "proxy", "proxy_http", "headers", "cgid", "alias",
            "auth_basic", "authn_file", "rewrite"]
    lines = ["LoadModule %s_module %s/mod_%s.so" % (m, harness.APACHE_MODULES, m) for m in mods]
    lines += [
        "ScriptSock /tmp/nm-cgid-%d.sock" % backend_port,  # sun_path is short
        "<Directory %s/members>" % htdocs,
        "  AuthType natomedia",
        "  Require natomedia-account",
        "</Directory>",
        "<Directory %s/valid>" % htdocs,
        "  AuthType natomedia",
        "  Require valid-user",
        "</Directory>",
        "<Location /subscribers>",
        "  AuthType natomedia",
        "  Require natomedia-account newsletter",
        "</Location>",
        "<Directory %s/ht>" % htdocs,
        "  AllowOverride AuthConfig",
        "</Directory>",
        "<Location /app/>",
        "  AuthType natomedia",
        "  Require natomedia-account",
        "  RequestHeader set X-Account %{NATOMEDIA_ACCOUNT_EMAIL}e",
        "  ProxyPass http://127.0.0.1:%d/" % backend_port,
        "</Location>",
        "<Directory %s/basic>" % htdocs,
        "  AuthType Basic",
        "  AuthName staff",
        "  AuthUserFile %s/../htpasswd" % htdocs,
        "  Require valid-user",
        "</Directory>",
        "RewriteEngine On",
        "RewriteCond %{ENV:NATOMEDIA_ACCOUNT_EMAIL} @",
        "RewriteRule ^/who$ /cgi/env.cgi [PT]",
        "ScriptAlias /cgi/ %s/cgi/" % htdocs,
        "<Directory %s/cgi>" % htdocs,
        "  AuthType natomedia",
        "  Require natomedia-account",
        "</Directory>",
    ]
    return "\n".join(lines)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.chmod(os.path.dirname(path), 0o755)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class IdentityFlows:
    db_kind = "sqlite"

    def setUp(self):
        super().setUp()
        self.backend = EchoBackend()
        self.addCleanup(self.backend.stop)
        self.apache = self.make_apache(start=False, plugins=PLUGINS,
                                       db=self.start_database())
        htdocs = self.apache.htdocs
        for folder in ("members", "valid", "subscribers", "ht", "open", "basic"):
            write(os.path.join(htdocs, folder, "page.html"), PAGE)
        write(os.path.join(htdocs, "ht", ".htaccess"),
              "AuthType natomedia\nRequire natomedia-account\n")
        write(os.path.join(htdocs, "cgi", "env.cgi"), CGI_SCRIPT, mode=0o755)
        sha = base64.b64encode(hashlib.sha1(b"staff-pass").digest()).decode()
        write(os.path.join(htdocs, "..", "htpasswd"), "staff:{SHA}%s\n" % sha)
        self.apache.extra_conf = gated_conf(htdocs, self.backend.port)
        self.apache.write_config()
        self.apache.start()

    # --- helpers ----------------------------------------------------------------------------

    def make_account(self, email):
        """A verified account, signed in on a new client (through the real forms and mail)."""
        client = self.apache.client()
        portal_flows.register(self, client, email)
        code = portal_flows.code_from(self.apache.mail, email)
        portal_flows.submit_code(self, client, email, code)
        if not portal_flows.signed_in(client):
            r = portal_flows.sign_in(client, email)
            self.assertEqual(r.status, 303, r.body[:500])
        self.assertTrue(portal_flows.signed_in(client))
        return client

    def account_id(self, email):
        if self.pg:
            return int(self.pg.psql("SELECT id FROM accounts WHERE email = '%s'" % email).strip())
        import sqlite3
        con = sqlite3.connect(self.apache.db_path, timeout=10)
        try:
            return con.execute("SELECT id FROM accounts WHERE email = ?", (email,)).fetchone()[0]
        finally:
            con.close()

    def access_log_users(self, path):
        """The %u field of every access-log line for `path`."""
        users = []
        for line in harness.read_text(self.apache.access_log_path).splitlines():
            m = re.match(r'^\S+ \S+ (\S+) \[[^\]]*\] "GET (\S+) ', line)
            if m and m.group(2) == path:
                users.append(m.group(1))
        return users

    # --- the tests --------------------------------------------------------------------------

    def test_anonymous_browser_sent_to_sign_in_and_back(self):
        anon = self.apache.client()
        r = anon.get("/members/page.html?x=1", headers=BROWSER)
        self.assertEqual(r.status, 303, r.body[:500])
        loc = urllib.parse.urlsplit(r.location)
        self.assertEqual(loc.path, "/account/login")
        self.assertEqual(urllib.parse.parse_qs(loc.query)["return_to"], ["/members/page.html?x=1"])
        self.assertNotIn("members only", r.body)
        self.assertIn("Cookie", r.header("Vary", ""))

        # Signing in on that page comes back to the gated page, which is then served.
        email = "gated-%s@example.org" % self.db_kind
        self.make_account(email).submit("/account/", {}, action="/account/logout")
        browser = self.apache.client()
        form = "/account/login?" + loc.query
        r = browser.submit(form, {"email": email, "password": portal_flows.PASSWORD,
                                  "return_to": "/members/page.html?x=1"})
        self.assertEqual(r.status, 303, r.body[:500])
        self.assertEqual(r.location, "/members/page.html?x=1")
        r = browser.get(r.location, headers=BROWSER)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, PAGE)

    def test_api_client_gets_401(self):
        anon = self.apache.client()
        for path in ("/members/page.html", "/app/anything", "/cgi/env.cgi"):
            r = anon.get(path, headers=API)
            self.assertEqual(r.status, 401, path)
            self.assertIn("/account/login?return_to=", r.header("WWW-Authenticate", ""))
            self.assertIn('rel="login"', r.header("Link", ""))
            self.assertIn("Sign in first: /account/login?return_to=", r.body)
            self.assertNotIn("members only", r.body)
            self.assertIsNone(r.location)
        # No Accept at all is no browser either.
        self.assertEqual(anon.get("/members/page.html").status, 401)

    def test_signed_in_account_passes_every_gate_and_httpd_knows_it(self):
        email = "member-%s@example.org" % self.db_kind
        client = self.make_account(email)
        account_id = self.account_id(email)
        for path in ("/members/page.html", "/valid/page.html", "/ht/page.html"):
            r = client.get(path, headers=BROWSER)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.body, PAGE)
            self.assertIn("private", r.header("Cache-Control", ""), path)  # no shared cache
        # mod_headers saw the environment: the proxied application got X-Account.
        r = client.get("/app/hello", headers=API)
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertIn("private", r.header("Cache-Control", ""))  # proxied, still private
        self.assertEqual(json.loads(r.body), {"x_account": email, "path": "/hello"})
        # A CGI script sees REMOTE_USER and the NATOMEDIA_ACCOUNT_* variables.
        r = client.get("/cgi/env.cgi")
        self.assertEqual(r.status, 200, r.body[:500])
        env = dict(line.split("=", 1) for line in r.body.splitlines())
        self.assertEqual(env, {"REMOTE_USER": email, "AUTH_TYPE": "natomedia",
                               "NATOMEDIA_ACCOUNT_ID": str(account_id),
                               "NATOMEDIA_ACCOUNT_EMAIL": email})
        # %u in the access log, for gated and open pages alike; "-" for the anonymous.
        open_page = client.get("/open/page.html")
        # The open page is no one's: the gate's "private" is not added to it.
        self.assertNotIn("private", open_page.header("Cache-Control", ""))
        self.apache.client().get("/open/page.html")
        self.assertTrue(harness.wait_until(
            lambda: len(self.access_log_users("/open/page.html")) == 2, 10))
        self.assertEqual(sorted(self.access_log_users("/open/page.html")), ["-", email])
        self.assertEqual(self.access_log_users("/members/page.html"), [email])

        # mod_rewrite (server context) sees the environment.
        r = client.get("/who")
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertIn("NATOMEDIA_ACCOUNT_EMAIL=%s\n" % email, r.body)
        self.assertEqual(self.apache.client().get("/who").status, 404)
        # Another AuthType decides for itself: the portal session is no Basic user.
        self.assertEqual(client.get("/basic/page.html", headers=BROWSER).status, 401)
        staff = {"Authorization": "Basic " + base64.b64encode(b"staff:staff-pass").decode()}
        self.assertEqual(client.get("/basic/page.html", headers=staff).status, 200)

        # Signed out: the session is gone, so is the identity.
        client.submit("/account/", {}, action="/account/logout")
        self.assertEqual(client.get("/members/page.html", headers=BROWSER).status, 303)

    def test_newsletter_requirement(self):
        email = "reader-%s@example.org" % self.db_kind
        client = self.make_account(email)
        r = client.get("/subscribers/page.html", headers=BROWSER)
        self.assertEqual(r.status, 403)
        self.assertNotIn("members only", r.body)
        self.assertEqual(portal_flows.subscribe(client).status, 200)
        r = client.get("/subscribers/page.html", headers=BROWSER)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, PAGE)
        # Anonymous: sent to sign in like any gate.
        self.assertEqual(self.apache.client().get("/subscribers/page.html",
                                                  headers=BROWSER).status, 303)

    def test_forged_and_dead_sessions_are_nobody(self):
        email = "dead-%s@example.org" % self.db_kind
        client = self.make_account(email)
        token = client.cookies["nm_session"]
        forged = self.apache.client()
        forged.cookies["nm_session"] = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
        self.assertEqual(forged.get("/members/page.html", headers=BROWSER).status, 303)
        r = forged.get("/cgi/env.cgi", headers=API)
        self.assertEqual(r.status, 401)
        client.submit("/account/", {}, action="/account/logout")
        stale = self.apache.client()
        stale.cookies["nm_session"] = token
        self.assertEqual(stale.get("/members/page.html", headers=BROWSER).status, 303)


@harness.unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class HttpdIdentitySqliteTest(IdentityFlows, IntegrationTest):
    db_kind = "sqlite"

    def test_remote_user_id(self):
        """NatoMediaRemoteUser id: r->user is the account's number; the env still has both."""
        email = "by-id@example.org"
        client = self.make_account(email)
        self.apache.directives = "NatoMediaRemoteUser id"
        self.apache.write_config()
        self.apache.graceful()
        account_id = self.account_id(email)
        r = client.get("/cgi/env.cgi")
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertIn("REMOTE_USER=%d\n" % account_id, r.body)
        self.assertIn("NATOMEDIA_ACCOUNT_EMAIL=%s\n" % email, r.body)
        self.assertTrue(harness.wait_until(
            lambda: self.access_log_users("/cgi/env.cgi") == [str(account_id)], 10))

    def test_bad_require_and_remote_user_refused_at_configtest(self):
        gated = self.apache.extra_conf
        self.apache.extra_conf = gated + "\n<Location /bad>\n  AuthType natomedia\n" \
            "  Require natomedia-account everyone\n</Location>\n"
        self.apache.write_config()
        rc, out = self.apache.configtest()
        self.assertNotEqual(rc, 0)
        self.assertIn("Require natomedia-account takes nothing", out)
        self.apache.extra_conf = gated
        self.apache.directives = "NatoMediaRemoteUser name"
        self.apache.write_config()
        rc, out = self.apache.configtest()
        self.assertNotEqual(rc, 0)
        self.assertIn("NatoMediaRemoteUser: takes `email`", out)


@harness.unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class HttpdIdentityPostgresTest(IdentityFlows, IntegrationTest):
    db_kind = "pgsql"

    def test_database_down(self):
        """With PostgreSQL stopped: no cookie still costs nothing (303 to sign in, open pages
        served); a session cookie that cannot be checked is 503, not "sign in again"."""
        client = self.make_account("pgdown@example.org")
        other_cookies = self.apache.client()
        other_cookies.get("/account/login")  # a CSRF cookie, no session
        self.assertIn("nm_csrf", other_cookies.cookies)
        self.pg.stop()
        try:
            anon = self.apache.client()
            self.assertEqual(anon.get("/open/page.html").status, 200)
            self.assertEqual(anon.get("/members/page.html", headers=BROWSER).status, 303)
            self.assertEqual(other_cookies.get("/open/page.html").status, 200)
            self.assertEqual(other_cookies.get("/members/page.html", headers=BROWSER).status, 303)
            self.assertEqual(client.get("/open/page.html").status, 200)
            r = client.get("/members/page.html", headers=BROWSER)
            self.assertEqual(r.status, 503)
            self.assertTrue(r.header("Retry-After"))
            self.assertNotIn("members only", r.body)
        finally:
            self.pg.start()
        self.assertTrue(harness.wait_until(
            lambda: client.get("/members/page.html", headers=BROWSER).status == 200, 30, 0.5))
