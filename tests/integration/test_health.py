"""`SetHandler natomedia-health` (CONTRACT section 14): 200 with JSON (sql, memcached, feed with
its age and item count, outbox backlog and oldest age, mail_sender last run) when all is well;
503 with the same JSON naming what is down, while memcached or the database is stopped; 200
again once it is back.
"""
# ctest-timeout: 600

import json
import os

import harness
from harness import IntegrationTest

PLUGINS = ("authentication", "verification", "newsletter")
HEALTH_CONF = """<Location /health>
  SetHandler natomedia-health
  Require ip 127.0.0.1
</Location>
"""
SERVICES = ("sql", "memcached", "feed", "outbox", "mail_sender")


class HealthChecks:
    db_kind = "sqlite"

    def setUp(self):
        super().setUp()
        self.mc = self.start_memcached()
        feed = os.path.join(self.source_dir, "conf/sample-feed.xml")
        self.apache = self.make_apache(plugins=PLUGINS, memcached=self.mc, feed=feed,
                                       db=self.start_database(),
                                       extra_conf=HEALTH_CONF)
        self.client = self.apache.client()

    def health(self):
        r = self.client.get("/health")
        self.assertIn(r.status, (200, 503), r.body[:500])
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        body = json.loads(r.body)
        for name in SERVICES:
            self.assertIn(name, body)
            self.assertIn("ok", body[name])
        self.assertEqual(body["status"] == "ok", r.status == 200, body)
        self.assertEqual(body["down"], [n for n in SERVICES if not body[n]["ok"]])
        return r.status, body

    def wait_for_status(self, status, timeout=30):
        seen = []

        def check():
            seen[:] = [self.health()]
            return seen[0][0] == status
        self.assertTrue(harness.wait_until(check, timeout, 0.5), seen)
        return seen[0][1]

    def test_all_well(self):
        # The mail sender runs every second from the watchdog; wait for its first run.
        body = self.wait_for_status(200)
        self.assertTrue(harness.wait_until(
            lambda: self.health()[1]["mail_sender"].get("last_run"), 15, 0.5))
        status, body = self.health()
        self.assertEqual(status, 200)
        self.assertEqual(body["down"], [])
        self.assertGreater(body["feed"]["items"], 0)
        self.assertIsInstance(body["feed"]["age_seconds"], int)
        self.assertEqual(body["outbox"]["backlog"], 0)
        self.assertIsNone(body["outbox"]["oldest_age_seconds"])
        self.assertLessEqual(body["mail_sender"]["age_seconds"], 15)
        # Only GET (and HEAD).
        self.assertEqual(self.client.post("/health", {}).status, 405)

    def test_memcached_down_then_back(self):
        self.wait_for_status(200)
        self.mc.stop()
        body = self.wait_for_status(503)
        self.assertEqual(body["down"], ["memcached"])
        self.assertTrue(body["sql"]["ok"])
        self.mc.start()
        self.wait_for_status(200)


@harness.unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class HealthSqliteTest(HealthChecks, IntegrationTest):
    db_kind = "sqlite"


@harness.unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class HealthPostgresTest(HealthChecks, IntegrationTest):
    db_kind = "pgsql"

    def test_database_down_then_back(self):
        self.wait_for_status(200)
        self.pg.stop()
        body = self.wait_for_status(503)
        self.assertIn("sql", body["down"])
        self.assertIn("outbox", body["down"])
        self.assertNotIn("memcached", body["down"])
        self.pg.start()
        self.wait_for_status(200, timeout=60)
