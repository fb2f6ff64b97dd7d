"""The shared-memory session cache never keeps an ended session alive (CONTRACT section 14;
issue 18; docs/security.md, "Sessions").

httpd runs the event MPM with four children here (four processes of five threads), with
mod_socache_shmcb loaded, so the module keeps what it read of each session in its cache
(NatoMediaSessionCache shmcb, the default). Each attack first fills every child's view with the
victim cookie (40 parallel connections, answered by several processes: the access log's %P says
which), then ends the session one way and at once sends 40 parallel requests with the old
cookie to a gated static page and to /account/:

- sign-out, end-other-sessions, a password change and an account deletion made through the
  portal: every request is refused at once, on every child;
- `natomedia-admin sessions end` and `accounts disable` (outside httpd, which cannot reach its
  shared memory): refused within NatoMediaSessionCacheTimeout, the documented bound.

The cache's counters show it is really used (hits grow while no session is read from SQL).
"""
# ctest-timeout: 900

import concurrent.futures
import http.client
import os
import time
import unittest

import harness
import portal_flows as flows
import proof_support as ps
from harness import IntegrationTest

PARALLEL = 40
TIMEOUT = 3  # NatoMediaSessionCacheTimeout here
NEW_PASSWORD = "Another-Pressure-8-ok?"
# Four processes of five threads; MinSpareThreads keeps all four alive.
MPM = "\n".join(["StartServers 4", "ServerLimit 4", "ThreadsPerChild 5", "MaxRequestWorkers 20",
                 "MinSpareThreads 20", "MaxSpareThreads 25"])


class SessionCacheAttack(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.apache = self.make_apache(
            start=False, session_cache=True,
            directives=MPM + "\nNatoMediaSessionCacheTimeout %d" % TIMEOUT)
        gated = harness.make_dir(os.path.join(self.apache.htdocs, "gated"))
        with open(os.path.join(gated, "page.html"), "w") as f:
            f.write("<!doctype html><title>gated</title><p>members only</p>\n")
        os.chmod(os.path.join(gated, "page.html"), 0o644)
        self.pid_log = os.path.join(self.apache.logs_dir, "pids.log")
        self.apache.extra_conf = "\n".join([
            "LoadModule authn_core_module %s/mod_authn_core.so" % harness.APACHE_MODULES,
            "<Directory %s>" % gated, "  AuthType natomedia", "  Require natomedia-account",
            "</Directory>",
            'LogFormat "%P %U %>s" pids', "CustomLog %s pids" % self.pid_log, ""])
        self.apache.write_config()
        self.apache.start()

    # --- helpers ------------------------------------------------------------------------------

    def admin(self, *args):
        out = flows.admin(self.prefix, self.apache.conf_path, *args)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return out.stdout

    def browser(self, email, register=True):
        if register:
            return ps.verified_client(self.apache, email)
        return flows.signed_in_browser(self, self.apache.client(), email, ps.PASSWORD)

    def one(self, path, cookie):
        conn = http.client.HTTPConnection("127.0.0.1", self.apache.port, timeout=60)
        try:
            conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html",
                                               "Connection": "close"})
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()

    def burst(self, cookie):
        """PARALLEL requests at once, half to the gated page, half to /account/, each on its own
        connection: [(path, status)] and the set of child PIDs that answered them."""
        paths = ["/gated/page.html", "/account/"] * (PARALLEL // 2)
        before = self.pid_lines()
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            statuses = list(pool.map(lambda p: self.one(p, cookie), paths))
        pids = set()

        def logged():
            lines = self.pid_lines()[len(before):]
            return len([l for l in lines if l.split()[1] in paths]) >= PARALLEL

        harness.wait_until(logged, 10, 0.1)
        for line in self.pid_lines()[len(before):]:
            pids.add(line.split()[0])
        return list(zip(paths, statuses)), pids

    def pid_lines(self):
        try:
            with open(self.pid_log) as f:
                return [l for l in f.read().splitlines() if l.strip()]
        except FileNotFoundError:
            return []

    def assert_all(self, results, want, message):
        wrong = [(p, s) for p, s in results if s not in want]
        self.assertEqual(wrong, [], "%s: %d of %d answered otherwise" % (message, len(wrong),
                                                                       len(results)))

    def warm(self, client):
        """The cookie is in the cache for every child: 40 parallel requests, all let in, by more
        than one process; then the cache answers them (the hit counter moves)."""
        cookie = client.cookie_header()
        results, pids = self.burst(cookie)
        self.assert_all(results, (200,), "the signed-in cookie")
        self.assertGreater(len(pids), 1, "one child answered every request: %s" % pids)
        hits = flows.metrics(self.apache.client()).get("natomedia_session_cache_hits_total", 0)
        results, _ = self.burst(cookie)
        self.assert_all(results, (200,), "the signed-in cookie, again")
        after = flows.metrics(self.apache.client())["natomedia_session_cache_hits_total"]
        self.assertGreaterEqual(after - hits, PARALLEL // 2, "the session cache is not used")
        return cookie

    def assert_refused_now(self, cookie, what):
        results, pids = self.burst(cookie)
        # The gate: 303 to sign in (a browser); /account/: 303 to the sign-in page.
        self.assert_all(results, (303,), "the old cookie right after " + what)
        self.assertGreater(len(pids), 1, "one child answered every request: %s" % pids)

    def assert_refused_within_bound(self, cookie, ended_at, what):
        """Refused on every child no later than TIMEOUT seconds after the end (plus 1 s for a
        loaded machine), and from then on."""
        deadline = ended_at + TIMEOUT + 1.0
        while True:
            results, _ = self.burst(cookie)
            if all(s == 303 for _, s in results):
                refused_at = time.monotonic()
                break
            if time.monotonic() > deadline:
                self.fail("%s: the old cookie still let in %.1f s later"
                          % (what, time.monotonic() - ended_at))
            time.sleep(0.2)
        self.assertLessEqual(refused_at - ended_at, TIMEOUT + 1.0)
        self.assert_refused_now(cookie, what)

    # --- (a) sign-out ---------------------------------------------------------------------------

    def test_sign_out_kills_the_cookie_on_every_child_at_once(self):
        ann = self.browser("cache-ann@example.org")
        cookie = self.warm(ann)
        out = ann.submit("/account/", {}, action="/account/logout")
        self.assertEqual(out.status, 303)
        self.assert_refused_now(cookie, "sign-out")
        # The account itself is untouched: signing in again works, through the cache too.
        self.warm(self.browser("cache-ann@example.org", register=False))

    # --- (b) account-wide ends through the portal ----------------------------------------------

    def test_end_others_password_change_and_delete_kill_the_other_cookie_at_once(self):
        email = "cache-bob@example.org"
        here = self.browser(email)
        other = self.browser(email, register=False)
        bystander = self.browser("cache-carol@example.org")
        carol = self.warm(bystander)

        cookie = self.warm(other)
        r = here.submit("/account/sessions", {}, action="/account/sessions/end-others")
        self.assertEqual(r.status, 303, r.body[:500])
        self.assert_refused_now(cookie, "end other sessions")
        self.assertTrue(flows.signed_in(here))

        other = self.browser(email, register=False)
        cookie = self.warm(other)
        r = here.submit("/account/password", {"current_password": ps.PASSWORD,
                                              "password": NEW_PASSWORD,
                                              "password_confirm": NEW_PASSWORD})
        self.assertEqual(r.status, 303, r.body[:500])
        self.assert_refused_now(cookie, "a password change")
        self.assertTrue(flows.signed_in(here))  # the browser that changed it stays

        other = flows.signed_in_browser(self, self.apache.client(), email, NEW_PASSWORD)
        cookie = self.warm(other)
        mine = here.cookie_header()
        r = here.submit("/account/delete", {"current_password": NEW_PASSWORD})
        self.assertEqual(r.status, 303, r.body[:500])
        self.assert_refused_now(cookie, "the account's deletion")
        self.assert_refused_now(mine, "the account's deletion (the deleting browser's cookie)")
        # Another account's sessions are untouched, and still served from the cache.
        results, _ = self.burst(carol)
        self.assert_all(results, (200,), "another account's cookie")

    # --- (c), (d) changes made outside httpd ---------------------------------------------------

    def assert_admin_ends_it_within_the_bound(self, email, said, *command):
        """A warm cookie of email's, then `natomedia-admin COMMAND EMAIL` (its output holds
        said): the cookie is refused within the bound."""
        cookie = self.warm(self.browser(email))
        self.assertIn(said, self.admin(*command, email))
        ended_at = time.monotonic()
        self.assert_refused_within_bound(cookie, ended_at, "natomedia-admin " + " ".join(command))

    def test_admin_sessions_end_is_seen_within_the_bound(self):
        self.assert_admin_ends_it_within_the_bound("cache-dan@example.org", "ended 1 session(s)",
                                                   "sessions", "end")

    def test_disabled_account_is_refused_within_the_bound(self):
        self.assert_admin_ends_it_within_the_bound("cache-eve@example.org", "disabled",
                                                   "accounts", "disable")


if __name__ == "__main__":
    unittest.main()
