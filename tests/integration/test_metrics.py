"""Metrics (CONTRACT section 14): /natomedia-status in the Prometheus text format, parsed
strictly; natomedia_http_requests_total and natomedia_http_request_duration_seconds carry the
route pattern (never the raw URL) and the status code; the values survive `apache2 -k graceful`.
"""

import math
import os
import re

import harness
from harness import IntegrationTest

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_HELP = re.compile(r"^# HELP (%s) (.*)$" % _NAME)
_TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % _NAME)
_SAMPLE = re.compile(r"^(%s)(\{.*\})? (\S+)$" % _NAME)
_LABEL = re.compile(r'(%s)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"' % _LABEL_NAME)


class FormatError(AssertionError):
    pass


def parse_labels(text, line):
    """'{a="x",b="y"}' -> (('a', 'x'), ('b', 'y')); strict about quotes, escapes and commas."""
    if not text:
        return ()
    body, pos, out = text[1:-1], 0, []
    while pos < len(body):
        m = _LABEL.match(body, pos)
        if not m:
            raise FormatError("bad label syntax at %r in %r" % (body[pos:], line))
        value = re.sub(r'\\(.)', lambda e: {"n": "\n"}.get(e.group(1), e.group(1)), m.group(2))
        out.append((m.group(1), value))
        pos = m.end()
        if pos < len(body):
            if body[pos] != ",":
                raise FormatError("expected ',' in %r" % line)
            pos += 1
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise FormatError("a label twice in %r" % line)
    return tuple(out)


def parse(text):
    """Prometheus text format 0.0.4 -> {family: {"type", "help", "samples": [(name, labels,
    value)]}}. Raises FormatError on anything a strict reader would refuse."""
    if not text.endswith("\n"):
        raise FormatError("the page does not end with a newline")
    families, current, done = {}, None, set()

    def family_of(sample):
        for suffix in ("_bucket", "_sum", "_count", ""):
            base = sample[:len(sample) - len(suffix)] if suffix else sample
            if sample.endswith(suffix) and base in families:
                kind = families[base]["type"]
                if suffix and kind not in ("histogram", "summary"):
                    continue
                if kind == "histogram" and not suffix:
                    continue
                return base
        raise FormatError("sample %s has no # TYPE before it" % sample)

    for line in text.split("\n")[:-1]:
        if line.startswith("#"):
            m = _HELP.match(line) or _TYPE.match(line)
            if not m:
                raise FormatError("bad comment line %r" % line)
            name = m.group(1)
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            key = "help" if line.startswith("# HELP") else "type"
            if fam[key] is not None:
                raise FormatError("second # %s for %s" % (key.upper(), name))
            if fam["samples"]:
                raise FormatError("# %s for %s after its samples" % (key.upper(), name))
            if name in done:
                raise FormatError("family %s split in two" % name)
            fam[key] = m.group(2)
            if current and current != name:
                done.add(current)
            current = name
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise FormatError("bad sample line %r" % line)
        name, labels, value = m.group(1), parse_labels(m.group(2), line), m.group(3)
        try:
            number = float(value)
        except ValueError:
            raise FormatError("bad value in %r" % line)
        base = family_of(name)
        if base in done or (current and base != current):
            raise FormatError("samples of %s are not together" % base)
        current = base
        families[base]["samples"].append((name, labels, number))
    for name, fam in families.items():
        if fam["type"] is None or fam["help"] is None:
            raise FormatError("%s lacks # HELP or # TYPE" % name)
        if fam["type"] == "counter" and any(v < 0 or math.isnan(v) for _, _, v in fam["samples"]):
            raise FormatError("negative counter %s" % name)
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
    return families


def check_histogram(name, samples):
    series = {}
    for sample, labels, value in samples:
        plain = tuple(kv for kv in labels if kv[0] != "le")
        s = series.setdefault(plain, {"buckets": [], "sum": None, "count": None})
        if sample == name + "_bucket":
            le = dict(labels).get("le")
            if le is None:
                raise FormatError("%s bucket without le" % name)
            s["buckets"].append((math.inf if le == "+Inf" else float(le), value))
        elif sample == name + "_sum":
            s["sum"] = value
        elif sample == name + "_count":
            s["count"] = value
    for plain, s in series.items():
        bounds = [b for b, _ in s["buckets"]]
        if not bounds or bounds[-1] != math.inf:
            raise FormatError("%s%s has no +Inf bucket (last)" % (name, plain))
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise FormatError("%s%s buckets not in increasing le order" % (name, plain))
        counts = [c for _, c in s["buckets"]]
        if counts != sorted(counts):
            raise FormatError("%s%s bucket counts go down: %s" % (name, plain, counts))
        if s["count"] is None or s["sum"] is None:
            raise FormatError("%s%s lacks _sum or _count" % (name, plain))
        if counts[-1] != s["count"]:
            raise FormatError("%s%s: +Inf %s != _count %s" % (name, plain, counts[-1], s["count"]))
        if s["sum"] < 0:
            raise FormatError("%s%s negative _sum" % (name, plain))


def by_labels(families, family, sample=None):
    """{labels as dict items tuple: value} for one sample name of a family."""
    sample = sample or family
    return {labels: v for n, labels, v in families.get(family, {"samples": []})["samples"]
            if n == sample}


class ParserTest(harness.unittest.TestCase):
    """The strict parser refuses what it must (so the tests below can fail)."""

    GOOD = ("# HELP a_total A\n# TYPE a_total counter\na_total{route=\"/x\",code=\"200\"} 3\n"
            "# HELP h H\n# TYPE h histogram\n"
            "h_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n")

    def test_good_page(self):
        fams = parse(self.GOOD)
        self.assertEqual(by_labels(fams, "a_total"), {(("route", "/x"), ("code", "200")): 3.0})

    def test_refusals(self):
        bad = [self.GOOD.replace("# TYPE a_total counter\n", ""),
               self.GOOD.replace('route="/x"', "route=/x"),
               self.GOOD.replace('code="200"', 'code="2"00"'),
               self.GOOD.replace('h_bucket{le="+Inf"} 2', 'h_bucket{le="+Inf"} 3'),
               self.GOOD.replace('h_bucket{le="0.1"} 1', 'h_bucket{le="0.1"} 5'),
               self.GOOD.replace('h_bucket{le="+Inf"} 2\n', ""),
               self.GOOD + "a_total 1\n",
               self.GOOD[:-1]]
        for text in bad:
            with self.assertRaises(FormatError, msg=text):
                parse(text)


@harness.unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")
class MetricsTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        feed = os.path.join(self.source_dir, "conf/sample-feed.xml")
        self.apache = self.make_apache(plugins=["media_gateway"], feed=feed)
        self.client = self.apache.client()

    def page(self):
        r = self.client.get("/natomedia-status")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/plain; version=0.0.4"))
        return parse(r.body)

    def requests_of(self, fams):
        return {dict(k)["route"] + " " + dict(k)["code"]: v
                for k, v in by_labels(fams, "natomedia_http_requests_total").items()}

    def test_labels_histogram_and_graceful_restart(self):
        c = self.client
        for _ in range(3):
            self.assertEqual(c.get("/news/").status, 200)
        for raw in ("/news/no-such-item-1", "/news/no-such-item-2"):
            self.assertEqual(c.get(raw).status, 404)
        self.assertEqual(c.get("/news/a/b/c").status, 404)
        # A request is counted when it is logged, just after its answer went out.
        harness.wait_until(lambda: sum(self.requests_of(self.page()).values()) >= 6, 5, 0.1)
        fams = self.page()
        self.assertEqual(fams["natomedia_http_requests_total"]["type"], "counter")
        self.assertEqual(fams["natomedia_http_request_duration_seconds"]["type"], "histogram")
        seen = self.requests_of(fams)
        # Each child answers its share; the counters are summed in shared memory.
        self.assertEqual(seen.get("/news/ 200"), 3, seen)
        self.assertEqual(seen.get("/news/{id} 404"), 2, seen)
        self.assertEqual(seen.get("unmatched 404"), 1, seen)
        # Bounded cardinality: no raw URL became a label.
        for key in seen:
            self.assertNotIn("no-such-item", key)
        counts = by_labels(fams, "natomedia_http_request_duration_seconds",
                           "natomedia_http_request_duration_seconds_count")
        news = {dict(k)["route"] + " " + dict(k)["code"]: v for k, v in counts.items()}
        self.assertEqual(news.get("/news/ 200"), 3)
        buckets = [dict(k)["le"] for k, _ in by_labels(
            fams, "natomedia_http_request_duration_seconds",
            "natomedia_http_request_duration_seconds_bucket").items()
            if dict(k)["route"] == "/news/" and dict(k)["code"] == "200"]
        self.assertEqual(buckets[0], "0.005")
        self.assertEqual(buckets[-1], "+Inf")
        self.assertEqual(len(buckets), 12)

        before = {k: v for fam in fams.values() for (n, labels, v) in fam["samples"]
                  for k in [(n, labels)] if fam["type"] in ("counter", "histogram")}
        hellos = fams["natomedia_requests_total"]["samples"][0][2]
        self.assertGreaterEqual(hellos, 6)

        self.apache.graceful()
        harness.wait_until(lambda: c.get("/news/").status == 200, 10)
        # A request is counted in its log phase, after its answer went out: under load the
        # status page can be read before that; wait (bounded) until the new request shows.
        harness.wait_until(lambda: self.requests_of(self.page())["/news/ 200"] > 3, 10)
        after_fams = self.page()
        after = {(n, labels): v for fam in after_fams.values() for (n, labels, v) in fam["samples"]}
        went_back = {k: (v, after.get(k)) for k, v in before.items()
                     if after.get(k) is None or after[k] < v}
        self.assertEqual(went_back, {}, "counters went back after a graceful restart")
        self.assertGreater(self.requests_of(after_fams)["/news/ 200"], 3)
        self.assertGreater(after_fams["natomedia_requests_total"]["samples"][0][2], hellos)
        # The status page itself is not a route of the portal.
        self.assertFalse(any("natomedia-status" in k for k in self.requests_of(after_fams)))

        # `apache2 -k restart` (SIGHUP: children stopped at once) keeps them too.
        self.apache.restart()
        harness.wait_until(lambda: c.get("/natomedia-status").status == 200, 10)
        restarted = self.requests_of(self.page())
        self.assertGreaterEqual(restarted.get("/news/ 200", 0),
                                self.requests_of(after_fams)["/news/ 200"])


if __name__ == "__main__":
    harness.unittest.main()
