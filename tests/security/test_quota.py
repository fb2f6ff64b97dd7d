"""The download quota holds (CONTRACT section 2, NatoMediaDownloadQuota; issue 16): an account
gets at most its bytes a day, counted by what the clients really receive.

The attacks, on SQLite and on PostgreSQL:
- the same rendition fetched in full again and again (the old rule let any request "continue" a
  download logged within the hour, so a repeated full GET was never refused);
- 48 downloads started at once, full and ranged, of several renditions, with the cookie and with
  signed links (the old rule counted bytes only when a transfer ended, so they all passed).
And what must keep working: a download manager's parallel ranges and resumed ranges within the
quota, a 304 and HEAD at no cost, the download log and its counters equal to what was received.
"""

import hashlib
import html
import http.client
import os
import re
import sys
import threading
import time
import unittest

import harness
import proof_support as ps
import test_news as feeds
from harness import IntegrationTest

VIDEO = "clip"
SIZE = 128 << 10
RENDITIONS = ("a", "b", "c")
QUOTA = 300 << 10


class QuotaAttacks:
    db_kind = "sqlite"

    directives = ""

    def setUp(self):
        super().setUp()
        if int(time.time()) % 86400 > 86400 - 120:
            self.skipTest("too close to midnight UTC: the day's quota would start again")
        media = harness.make_dir(os.path.join(self.work_dir, "media"))
        clip = harness.make_dir(os.path.join(media, VIDEO))
        self.data, renditions = {}, []
        for rid in RENDITIONS:
            path = os.path.join(clip, rid + ".mp4")
            self.data[rid] = os.urandom(SIZE)
            with open(path, "wb") as f:
                f.write(self.data[rid])
            os.chmod(path, 0o644)
            renditions.append(feeds.rendition_of(path, rid, "%s/%s.mp4" % (VIDEO, rid)))
        feed = os.path.join(self.work_dir, "feed.xml")
        feeds.write_feed(feed, feeds.feed_xml([feeds.news_item(
            VIDEO, feeds.BASE_TIME, "Quota video", video=True, renditions=renditions)]))
        self.apache = self.make_apache(
            feed=feed, media_root=media, db=self.start_database(),
            directives="NatoMediaDownloadQuota %d\n%s" % (QUOTA, self.directives))

    def url(self, rid):
        return "/download/%s/%s" % (VIDEO, rid)

    def assert_refused(self, r, what):
        """Today's refusal: 429, the quota page, Retry-After up to midnight UTC."""
        self.assertEqual(r.status, 429, "%s: %r %r" % (what, r, r.raw[:300]))
        self.assertIn("Daily download limit reached", r.body, what)
        retry = int(r.header("Retry-After"))
        self.assertTrue(0 < retry <= 86400 - int(time.time()) % 86400 + 5, retry)
        self.assertIsNone(r.header("Content-Range"), what)

    def logged(self, account_email):
        db = ps.Db(self.apache)
        ident = db.scalar("SELECT id FROM accounts WHERE email = '%s'" % account_email)
        return db.scalar("SELECT COALESCE(SUM(bytes), 0) FROM media_downloads "
                         "WHERE account_id = %d" % ident)

    def metric(self, name):
        body = harness.Client(self.apache.url()).get("/natomedia-status").body
        m = re.search(r"^%s(?:\{[^}]*\})? (\d+)" % name, body, re.M)
        return int(m.group(1)) if m else 0

    # --- the attacks ------------------------------------------------------------------------

    def test_repeated_full_gets_of_one_rendition_are_refused(self):
        email = "repeat@example.org"
        c = ps.verified_client(self.apache, email)
        first = c.get(self.url("a"))
        self.assertEqual((first.status, first.raw), (200, self.data["a"]))
        self.assertEqual(c.get(self.url("a")).status, 200)  # 256 KiB of 300
        self.assert_refused(c.get(self.url("a")), "third full GET")
        self.assert_refused(c.get(self.url("b")), "another rendition in full")
        # A 304 and HEAD carry no file: they cost nothing, even with the quota nearly used.
        cond = c.get(self.url("a"), headers={"If-None-Match": first.header("ETag")})
        self.assertEqual((cond.status, cond.raw), (304, b""))
        self.assertEqual(cond.header("ETag"), first.header("ETag"))
        head = c.head(self.url("a"))
        self.assertEqual((head.status, int(head.header("Content-Length"))), (200, SIZE))
        # What is left (44 KiB) can still be had, as a range; not a byte more.
        left = QUOTA - 2 * SIZE
        part = c.get(self.url("a"), headers={"Range": "bytes=0-%d" % (left - 1)})
        self.assertEqual((part.status, part.raw), (206, self.data["a"][:left]))
        self.assert_refused(c.get(self.url("c"), headers={"Range": "bytes=0-0"}), "one byte more")
        # The log holds what was received.
        self.assertTrue(harness.wait_until(lambda: self.logged(email) == QUOTA, 10),
                        self.logged(email))

    def test_parallel_starts_never_pass_the_quota(self):
        email = "parallel@example.org"
        c = ps.verified_client(self.apache, email)
        page = c.get("/videos/" + VIDEO).body
        links = {rid: html.unescape(re.search(r'id="link-%s" readonly value="([^"]+)"' % rid,
                                              page).group(1)) for rid in RENDITIONS}
        cookie = c.cookie_header()
        bytes_before = self.metric("natomedia_download_bytes_total")
        plans = []
        for i in range(48):
            rid = RENDITIONS[i % 3]
            rng = (None, "bytes=0-65535", "bytes=65536-", "bytes=-1000")[(i // 3) % 4]
            signed = i % 2 == 1
            plans.append((rid, rng, signed))
        barrier = threading.Barrier(len(plans))
        results = [None] * len(plans)

        def fetch(n, rid, rng, signed):
            headers = {} if signed else {"Cookie": cookie}
            if rng:
                headers["Range"] = rng
            target = links[rid] if signed else self.url(rid)
            target = target.replace(self.apache.public_url, "")
            conn = http.client.HTTPConnection("127.0.0.1", self.apache.port, timeout=60)
            try:
                barrier.wait(30)
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                results[n] = (resp.status, len(body), rid, rng, signed)
            except Exception as e:  # noqa: BLE001 - reported below
                results[n] = ("error %r" % e, 0, rid, rng, signed)
            finally:
                conn.close()

        threads = [threading.Thread(target=fetch, args=(n,) + p) for n, p in enumerate(plans)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        statuses = sorted(set(r[0] for r in results), key=str)
        received = sum(r[1] for r in results if r[0] in (200, 206))
        summary = "statuses %r, %d bytes received of a %d quota\n%s" % (
            statuses, received, QUOTA, "\n".join(map(repr, results)))
        sys.stderr.write("\n== %s: 48 parallel starts: %d served, %d refused, %d bytes received "
                         "of a %d quota\n" % (self.db_kind, sum(r[0] in (200, 206) for r in results),
                                              sum(r[0] == 429 for r in results), received, QUOTA))
        self.assertTrue(set(statuses) <= {200, 206, 429}, summary)
        self.assertLessEqual(received, QUOTA, summary)
        self.assertIn(429, statuses, summary)
        served = [r for r in results if r[0] in (200, 206)]
        self.assertGreaterEqual(len(served), 2, summary)
        # The log and the counters say what the clients received.
        self.assertTrue(harness.wait_until(lambda: self.logged(email) == received, 15),
                        "log %d, received %d\n%s" % (self.logged(email), received, summary))
        self.assertEqual(self.metric("natomedia_download_bytes_total") - bytes_before, received)
        # And the account is at its quota for the day: nothing more, whoever asks.
        over = received + SIZE > QUOTA
        if over:
            self.assert_refused(c.get(self.url("a")), "after the race")

    def test_download_managers_work_within_the_quota(self):
        c = ps.verified_client(self.apache, "manager@example.org")
        cookie = c.cookie_header()
        self.assertEqual(c.head(self.url("a")).status, 200)
        # Four segments of `a` at once.
        segments = [(i * SIZE // 4, (i + 1) * SIZE // 4 - 1) for i in range(4)]
        parts = [None] * 4

        def segment(n, first, last):
            client = harness.Client(self.apache.url())
            r = client.request("GET", self.url("a"), cookies=False,
                               headers={"Cookie": cookie, "Range": "bytes=%d-%d" % (first, last)})
            parts[n] = (r.status, r.raw)

        threads = [threading.Thread(target=segment, args=(n, a, b))
                   for n, (a, b) in enumerate(segments)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual([p[0] for p in parts], [206] * 4)
        self.assertEqual(hashlib.sha256(b"".join(p[1] for p in parts)).hexdigest(),
                         hashlib.sha256(self.data["a"]).hexdigest())
        # `b` fetched in two pieces, the second a resume (If-Range with the file's ETag).
        first = c.get(self.url("b"), headers={"Range": "bytes=0-65535"})
        self.assertEqual(first.status, 206)
        rest = c.get(self.url("b"), headers={"Range": "bytes=65536-",
                                             "If-Range": first.header("ETag")})
        self.assertEqual((rest.status, first.raw + rest.raw), (206, self.data["b"]))
        # 256 KiB used: `c` in full would pass the quota, its first 44 KiB do not.
        self.assert_refused(c.get(self.url("c")), "a full file past the quota")
        left = QUOTA - 2 * SIZE
        tail = c.get(self.url("c"), headers={"Range": "bytes=%d-" % (SIZE - left)})
        self.assertEqual((tail.status, tail.raw), (206, self.data["c"][SIZE - left:]))
        self.assert_refused(c.get(self.url("c"), headers={"Range": "bytes=0-0"}), "past it")


@unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class QuotaSqliteTest(QuotaAttacks, IntegrationTest):
    db_kind = "sqlite"




@unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class QuotaPostgresTest(QuotaAttacks, IntegrationTest):
    db_kind = "pgsql"


@unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class QuotaWithoutRangesTest(QuotaAttacks, IntegrationTest):
    """`MaxRanges none`: httpd ignores Range and sends whole files, so a one-byte Range request
    is counted as the whole file before it is sent (not only after, when it is too late)."""

    directives = "MaxRanges none"

    def test_repeated_full_gets_of_one_rendition_are_refused(self):
        self.skipTest("run with ranges (QuotaSqliteTest)")

    def test_parallel_starts_never_pass_the_quota(self):
        self.skipTest("run with ranges (QuotaSqliteTest)")

    def test_download_managers_work_within_the_quota(self):
        self.skipTest("needs ranges")

    def test_ignored_ranges_are_counted_as_whole_files(self):
        c = ps.verified_client(self.apache, "noranges@example.org")
        answers = [c.get(self.url(rid), headers={"Range": "bytes=0-0"}) for rid in RENDITIONS]
        self.assertEqual([(r.status, len(r.raw)) for r in answers[:2]], [(200, SIZE)] * 2)
        self.assert_refused(answers[2], "a third whole file behind a one-byte range")


if __name__ == "__main__":
    unittest.main()
