"""Hostile feed files (issue 6): a real httpd with the media_gateway plugin serves a good feed;
the feed file is then replaced, by rename as an operator would, with an XXE document, a billion
laughs, a DTD, a 200 MB file and malformed XML. Each is refused: /news/ keeps serving the last
good feed and nothing of the hostile one, and the error log gives the reason (with the line the
parser names). A new valid feed is then served within 2 s, without a restart.

How the server notices a change (mod_natomedia/core/feed_service.cc): there is no watcher; a
request thread stats the file at most once a second (per child) and tries each version of the
file (inode, size, mtime, ctime) once. So after each replacement the test keeps requesting
/news/ until the refusal shows in the error log, and only then writes the next version: two
writes within the same second could otherwise leave the first one never tried.
"""

# ctest-timeout: 180

import os
import re
import time
import unittest

import harness
from harness import IntegrationTest
from test_news import BASE_TIME, feed_xml, listed_ids, news_item, write_feed

GOOD_IDS = ["good-3", "good-2", "good-1"]  # newest first
HOSTILE_ID = "hostile-item"
HOSTILE_MARK = "HOSTILE-MARK"
OVERSIZE_BYTES = 200 * 1024 * 1024
PAGES = ("/news/", "/news/?lang=fr", "/news/?page=1", "/news/feed.atom", "/news/feed.rss",
         "/videos/") + tuple("/news/" + i for i in GOOD_IDS)
REFUSAL_WAIT_S = 6.0  # a check a second, per child: a refusal shows within about a second


def good_items():
    return [news_item(ident, BASE_TIME + 60 * n, "Good headline %d" % n,
                      summary="Summary of good item %d." % n)
            for n, ident in enumerate(reversed(GOOD_IDS), 1)]


def hostile_item(headline=HOSTILE_MARK):
    """A newsItem that would be listed if the document were loaded; `headline` is raw XML."""
    return news_item(HOSTILE_ID, BASE_TIME + 9999, "@HEADLINE@").replace("@HEADLINE@", headline)


def with_prolog(prolog, body_items):
    """A feed whose XML declaration is followed by `prolog` (starting on line 2)."""
    text = feed_xml(body_items)
    decl, rest = text.split("\n", 1)
    return decl + "\n" + prolog + "\n" + rest


def line_of(text, needle):
    return text[:text.index(needle)].count("\n") + 1


# Each case: (name, document text, regex the error-log reason must match). "{line}" in the
# regex is replaced by the line the parser is expected to name.

XXE = with_prolog('<!DOCTYPE newsMessage [\n'
                  '  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
                  ']>', [hostile_item(HOSTILE_MARK + " &xxe;")])
XXE_EXTERNAL_DTD = with_prolog('<!DOCTYPE newsMessage SYSTEM "file:///etc/passwd">',
                               [hostile_item()])
XXE_PARAMETER_ENTITY = with_prolog('<!DOCTYPE newsMessage [\n'
                                   '  <!ENTITY % p SYSTEM "file:///etc/passwd">\n'
                                   '  %p;\n'
                                   ']>', [hostile_item()])
BILLION_LAUGHS = with_prolog(
    "<!DOCTYPE newsMessage [\n"
    '  <!ENTITY lol "lol">\n'
    + "".join('  <!ENTITY lol%d "%s">\n' % (i, ("&lol%s;" % ("" if i == 1 else i - 1)) * 10)
              for i in range(1, 10))
    + "]>", [hostile_item(HOSTILE_MARK + " &lol9;")])
INTERNAL_DTD = with_prolog("<!DOCTYPE newsMessage [\n"
                           "  <!ELEMENT newsMessage ANY>\n"
                           '  <!ENTITY mark "%s">\n'
                           "]>" % HOSTILE_MARK, [hostile_item("&mark;")])
# Well-formed up to a closing tag that does not match: the parser names that line.
MALFORMED = feed_xml(good_items() + [hostile_item()]).replace("</itemSet>", "</itemSett>")
UNDECLARED_ENTITY = feed_xml([hostile_item(HOSTILE_MARK + " &xxe;")])

DTD_REASON = r":{line}: a DOCTYPE \(DTD\) is not allowed"
CASES = [
    ("XXE (internal subset, file:///etc/passwd)", XXE, DTD_REASON, 2),
    ("XXE (external DTD file:///etc/passwd)", XXE_EXTERNAL_DTD, DTD_REASON, 2),
    ("XXE (parameter entity)", XXE_PARAMETER_ENTITY, DTD_REASON, 2),
    ("XXE (entity used, no DTD)", UNDECLARED_ENTITY, r":{line}: entity reference &xxe; is not",
     line_of(UNDECLARED_ENTITY, "&xxe;")),
    ("billion laughs", BILLION_LAUGHS, DTD_REASON, 2),
    ("DTD (internal subset)", INTERNAL_DTD, DTD_REASON, 2),
    ("malformed XML", MALFORMED, r":{line}: .*mismatch.*itemSet",
     line_of(MALFORMED, "</itemSett>")),
]


class HostileFeedTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.feed_path = os.path.join(self.work_dir, "feed.xml")
        write_feed(self.feed_path, feed_xml(good_items()))
        self.apache = self.make_apache(feed=self.feed_path, plugins=["media_gateway"])
        self.client = self.apache.client()
        self.slowest_news_s = 0.0

    # --- helpers --------------------------------------------------------------------------

    def news(self):
        started = time.monotonic()
        r = self.client.get("/news/")
        self.slowest_news_s = max(self.slowest_news_s, time.monotonic() - started)
        return r

    def replace_feed(self, text):
        """Replaces the feed file by rename (write_feed) and returns the error log's length."""
        mark = len(self.apache.error_log())
        write_feed(self.feed_path, text)
        return mark

    def wait_for_refusal(self, mark, reason_re, label):
        """Requests /news/ until a feed refusal matching reason_re is logged after `mark`."""
        pattern = re.compile(r"feed %s refused, last good feed kept:.*%s"
                             % (re.escape(self.feed_path), reason_re), re.S)
        found = []

        def logged():
            self.assertEqual(self.news().status, 200, label)
            m = pattern.search(self.apache.error_log()[mark:])
            if m:
                found.append(m.group(0))
            return bool(m)

        ok = harness.wait_until(logged, REFUSAL_WAIT_S, 0.1)
        self.assertTrue(ok, "%s: no refusal matching %r in the error log:\n%s"
                        % (label, reason_re, self.apache.error_log()[mark:][-3000:]))
        return found[0]

    def failures_counter(self):
        page = self.client.get("/natomedia-status").body
        m = re.search(r"^natomedia_feed_reload_failures_total (\d+)", page, re.M)
        self.assertIsNotNone(m, page[:2000])
        return int(m.group(1))

    def assert_last_good_feed_served(self, label, etag):
        news = self.news()
        self.assertEqual(news.status, 200, label)
        self.assertEqual(listed_ids(news.body), GOOD_IDS, label)
        self.assertEqual(news.header("ETag"), etag, label + ": the feed version changed")
        visitor = self.apache.client()  # its own cookies: ?lang=fr does not stick to self.client
        for path in PAGES:
            r = visitor.get(path)
            self.assertEqual(r.status, 200, "%s: %s" % (label, path))
            for bad in ("root:", "/bin/", HOSTILE_MARK, HOSTILE_ID, "lollol"):
                self.assertNotIn(bad, r.body, "%s: %s shows %r" % (label, path, bad))
        self.assertEqual(self.client.get("/news/" + HOSTILE_ID).status, 404, label)

    @staticmethod
    def children_read_bytes(parent_pid):
        """{child pid: bytes it has read (rchar, every read() of any fd)}."""
        out = {}
        for pid in harness.children_of(parent_pid):
            try:
                with open("/proc/%d/io" % pid) as f:
                    out[pid] = int(re.search(r"^rchar: (\d+)", f.read(), re.M).group(1))
            except (OSError, AttributeError):
                pass
        return out

    # --- the test ---------------------------------------------------------------------------

    def test_hostile_files_are_refused_and_a_good_one_is_then_served(self):
        first = self.news()
        self.assertEqual(first.status, 200, first.body[:500])
        self.assertEqual(listed_ids(first.body), GOOD_IDS)
        etag = first.header("ETag")
        self.assertTrue(etag)
        self.assert_last_good_feed_served("good feed", etag)
        failures = self.failures_counter()

        for label, text, reason, line in CASES:
            mark = self.replace_feed(text)
            logged = self.wait_for_refusal(mark, reason.format(line=line), label)
            self.assertNotIn("root:", logged, label)
            self.assert_last_good_feed_served(label, etag)
            self.assertGreater(self.failures_counter(), failures, label)
            failures = self.failures_counter()

        # 200 MB, sparse: refused by its size before a byte of it is read.
        tmp = self.feed_path + ".big"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(feed_xml([hostile_item()]))
        os.truncate(tmp, OVERSIZE_BYTES)
        os.chmod(tmp, 0o644)
        self.assertLess(os.stat(tmp).st_blocks * 512, 1 << 20, "the big file is not sparse")
        read_before = self.children_read_bytes(self.apache.pid)
        mark = len(self.apache.error_log())
        os.replace(tmp, self.feed_path)
        self.wait_for_refusal(mark, r"the feed is %d bytes, over the limit of \d+"
                              % OVERSIZE_BYTES, "200 MB file")
        read_after = self.children_read_bytes(self.apache.pid)
        self.assertTrue(read_after, "no child's /proc/PID/io could be read")
        read = sum(n - read_before.get(pid, 0) for pid, n in read_after.items())
        self.assertLess(read, 16 << 20, "httpd's children read %d bytes: the file was read" % read)
        self.assert_last_good_feed_served("200 MB file", etag)
        self.assertGreater(self.failures_counter(), failures)

        # None of the hostile documents made a request slow (no entity expansion, no big read).
        self.assertLess(self.slowest_news_s, 5.0)
        self.assertNotIn("root:", self.apache.error_log())

        # A new valid feed: served within 2 s, no restart.
        pid = self.apache.pid
        fresh = news_item("fresh", BASE_TIME + 600, "Fresh headline")
        write_feed(self.feed_path, feed_xml(good_items() + [fresh]))
        started = time.monotonic()
        served = harness.wait_until(lambda: self.client.get("/news/fresh").status == 200, 5.0,
                                    0.05)
        elapsed = time.monotonic() - started
        self.assertTrue(served, "the new feed was not served within 5 s")
        self.assertLess(elapsed, 2.0, "the new feed took %.2f s to be served" % elapsed)
        for _ in range(5):  # whichever child answers
            page = self.news()
            self.assertEqual(listed_ids(page.body), ["fresh"] + GOOD_IDS)
            self.assertNotEqual(page.header("ETag"), etag)
        self.assertEqual(self.apache.pid, pid, "httpd was restarted")


if __name__ == "__main__":
    unittest.main()
