"""Several web servers (issue 9, CONTRACT sections 5, 6, 9, 11): two Apache instances sharing one
PostgreSQL, one pool of two memcached servers and one secret file. A code mailed by one node is
accepted by the other, a session made on one is valid on both, each mail goes out exactly once
though both nodes run a mail sender, and with one memcached stopped codes keep working without a
restart. The metrics of each node move with what it served and agree across its children.
"""
# ctest-resource-lock: heavy
# ctest-timeout: 900

import os
import time
import unittest

import harness
import portal_flows as flows
from harness import IntegrationTest

# Each node runs two children, so a metrics page may come from either. MaxSpareThreads holds
# both children's threads (25 each), or the MPM retires one as spare within a second.
TWO_CHILDREN = "StartServers 2\nMinSpareThreads 20\nMaxSpareThreads 75"


class ClusterTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.pg = self.start_postgres()
        self.mc = [self.start_memcached(), self.start_memcached()]
        self.smtp = self.start_smtp()
        self.media, href, self.data = flows.make_media(self.work_dir)
        self.feed = flows.write_file(os.path.join(self.work_dir, "feed.xml"),
                                     flows.feed_text(href, self.data))
        self.a = self.node("a")
        self.b = self.node("b", secret_file=self.a.secret_file)

    def node(self, name, **kw):
        return self.make_apache(name=name, db=self.pg, memcached=self.mc, smtp=self.smtp,
                                feed=self.feed, media_root=self.media,
                                directives="NatoMediaResendCooldown 1\n" + TWO_CHILDREN, **kw)

    def sent_to(self, email):
        return [m for m in self.smtp.messages()
                if email.lower() in str(m.get("To", "")).lower()]

    def verify_on(self, node, email, code):
        c = node.client()
        flows.submit_code(self, c, email, code)
        return c

    # --- one database, two nodes --------------------------------------------------------------

    def test_codes_sessions_mail_and_metrics_across_nodes(self):
        # Both nodes applied (or found) the same schema, and the same memcached config string.
        with open(self.b.conf_path) as f:
            self.assertIn('NatoMediaMemcached "%s %s"' % (self.mc[0].config(),
                                                           self.mc[1].config()), f.read())
        for node in (self.a, self.b):
            self.assertGreaterEqual(len(harness.children_of(node.pid)), 2, "two children")
        before = {n: flows.metrics(n.client()) for n in (self.a, self.b)}

        # Register on one node, verify on the other, sessions valid on both.
        emails = ["user%d@example.org" % i for i in range(6)]
        for i, email in enumerate(emails):
            flows.register(self, (self.a if i % 2 == 0 else self.b).client(), email)
        clients = {}
        for i, email in enumerate(emails):
            other = self.b if i % 2 == 0 else self.a
            clients[email] = self.verify_on(other, email, flows.code_from(self.smtp, email))
        ann = emails[0]  # registered on a, verified (signed in) on b
        on_a = self.a.client()
        on_a.cookies = dict(clients[ann].cookies)
        page = on_a.get("/account/")
        self.assertEqual(page.status, 200, page.body[:500])
        self.assertIn(ann, page.body)
        self.assertTrue(flows.signed_in(clients[ann]))

        # A sign-in on a, a refused one on b, downloads on both.
        self.assertEqual(flows.sign_in(self.a.client(), ann).status, 303)
        self.assertEqual(flows.sign_in(self.b.client(), ann, "Wrong-passw0rd!").status, 401)
        # Two accounts, one download each, one on each node (one account's requests within the
        # hour would make one logical download).
        self.assertEqual(on_a.get(flows.download_path()).raw, self.data)
        bea_on_b = self.b.client()
        bea_on_b.cookies = dict(clients[emails[1]].cookies)  # signed in on a
        self.assertEqual(bea_on_b.get(flows.download_path()).raw, self.data)

        # Each mail exactly once, though both nodes' senders poll the one outbox.
        time.sleep(3)  # a second delivery would land within a sender period or two
        for email in emails:
            self.assertEqual(len(self.sent_to(email)), 1, email)
        self.assertEqual(len(self.smtp.messages()), len(emails))
        rows = self.pg.psql("SELECT status, COUNT(*) FROM mail_outbox GROUP BY status")
        self.assertEqual(rows.strip(), "sent|%d" % len(emails))

        after = {n: flows.metrics(n.client()) for n in (self.a, self.b)}

        def moved(node, name):
            return after[node].get(name, 0) - before[node].get(name, 0)

        def total(name):
            return moved(self.a, name) + moved(self.b, name)

        self.assertEqual((moved(self.a, "natomedia_registrations_total"),
                          moved(self.b, "natomedia_registrations_total")), (3, 3))
        self.assertEqual((moved(self.a, "natomedia_verifications_total"),
                          moved(self.b, "natomedia_verifications_total")), (3, 3))
        self.assertEqual(total("natomedia_codes_sent_total"), 6)
        # A verification signs the visitor in too: a's three, and one sign-in with the password.
        self.assertEqual(moved(self.a, "natomedia_signins_ok_total"), 3 + 1)
        self.assertEqual(moved(self.b, "natomedia_signins_ok_total"), 3)
        self.assertEqual(moved(self.b, "natomedia_signins_failed_total"), 1)
        self.assertEqual(total("natomedia_mails_queued_total"), 6)
        self.assertEqual(total("natomedia_mails_sent_total"), 6)  # no double send
        self.assertEqual((moved(self.a, "natomedia_downloads_total"),
                          moved(self.b, "natomedia_downloads_total")), (1, 1))
        self.assertEqual((moved(self.a, "natomedia_download_bytes_total"),
                          moved(self.b, "natomedia_download_bytes_total")),
                         (len(self.data), len(self.data)))

        # Whichever child answers, a node's counters read the same.
        for node in (self.a, self.b):
            names = ("natomedia_registrations_total", "natomedia_verifications_total",
                     "natomedia_signins_ok_total", "natomedia_mails_sent_total",
                     "natomedia_downloads_total")
            seen = {tuple(flows.metrics(node.client()).get(n, 0) for n in names)
                    for _ in range(12)}
            self.assertEqual(len(seen), 1, seen)

        # natomedia-admin on PostgreSQL: an erasure on the shared database ends the session on
        # both nodes and leaves the download log pseudonymous.
        res = flows.admin(self.prefix, self.a.conf_path, "accounts", "delete", ann)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("media_gateway", res.stdout)  # told by the one erasure's event
        self.assertFalse(flows.signed_in(on_a))
        self.assertFalse(flows.signed_in(clients[ann]))
        self.assertEqual(self.pg.psql("SELECT COUNT(*) FROM accounts WHERE email = '%s'" % ann)
                         .strip(), "0")
        self.assertEqual(self.pg.psql("SELECT COUNT(*) FROM media_downloads WHERE account_id < 0 "
                                      "AND account_id = -id").strip(), "1")
        listed = flows.admin(self.prefix, self.b.conf_path, "accounts", "list").stdout
        self.assertEqual(len(listed.splitlines()), len(emails) - 1)

    # --- one memcached stopped ----------------------------------------------------------------

    def test_codes_keep_working_with_one_memcached_stopped(self):
        emails = ["early%d@example.org" % i for i in range(4)]
        for i, email in enumerate(emails):
            flows.register(self, (self.a if i % 2 == 0 else self.b).client(), email)
        codes = {e: flows.code_from(self.smtp, e) for e in emails}
        items = [int(m.command_line("stats").split("STAT curr_items ")[1].split()[0])
                 for m in self.mc]
        self.assertTrue(all(n > 0 for n in items), "the pool spreads keys: %s" % items)

        self.mc[0].stop()
        # Codes kept by the live server still verify; those of the stopped one are gone (410)
        # and a new code, which goes to the live server, verifies. No 500, no restart.
        lost = []
        for i, email in enumerate(emails):
            other = self.b if i % 2 == 0 else self.a
            c = other.client()
            r = self.until_answered(lambda: c.submit(
                flows.verify_path(email), {"email": email, "code": codes[email]},
                action="/account/verify"))
            self.assertIn(r.status, (200, 410), r.body[:500])
            if r.status == 410:
                lost.append((email, other))
        for email, node in lost:
            c = node.client()
            r = self.until_answered(lambda: c.submit(flows.verify_path(email), {"email": email},
                                                     action="/account/verify/resend"))
            if r.status == 429:  # the resend cool-down (1 s here) since the registration
                time.sleep(int(r.header("Retry-After", "1")) + 1)
                r = c.submit(flows.verify_path(email), {"email": email},
                             action="/account/verify/resend")
            self.assertEqual(r.status, 303, r.body[:500])
            flows.submit_code(self, c, email, flows.code_from(self.smtp, email, after=1))

        # Every code route keeps answering, across the retry timeouts of the dead server (it is
        # tried again every 2 s).
        deadline = time.monotonic() + 5
        n = 0
        while time.monotonic() < deadline or n < 3:
            email = "late%d@example.org" % n
            reg, ver = (self.a, self.b) if n % 2 == 0 else (self.b, self.a)
            flows.register(self, reg.client(), email)
            self.verify_on(ver, email, flows.code_from(self.smtp, email))
            n += 1
            time.sleep(1)
        self.assertEqual(len(self.smtp.messages()), len(emails) + len(lost) + n)

        # The stopped server comes back: nothing to restart, codes keep working.
        self.mc[0].start()
        time.sleep(3)
        email = "back@example.org"
        flows.register(self, self.a.client(), email)
        c = self.b.client()
        r = self.until_answered(lambda: c.submit(
            flows.verify_path(email),
            {"email": email, "code": flows.code_from(self.smtp, email)},
            action="/account/verify"))
        self.assertIn(r.status, (200, 410), r.body[:500])

    def until_answered(self, request):
        """request()'s answer, which must not be a 503: a live memcached server stands in for
        the stopped one at once (mod_natomedia/core/memcached_cache.h)."""
        r = request()
        self.assertNotEqual(r.status, 503, "a code route failed with one memcached stopped")
        return r

if __name__ == "__main__":
    unittest.main()
