#!/bin/sh
# News search over a 10,000-item feed (issue 17: p99 under 20 ms). Starts a private httpd with the
# installed module (harness.py) on a generated feed of 10,000 text items (English headlines with
# French ones), checks that a search finds what it must, then runs wrk over a mix of searches:
# one word every item has (paged: the first page of 10,000 hits), a headline's exact words, a
# summary word with a number, a French word on the French page, a topic, and a word no item has.
#   bench/search_10k.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: DURATION (s, default 10), THREADS (2), CONNECTIONS (8), ITEMS (10000).
set -eu
. "$(dirname "$0")/lib.sh"
export DURATION="${DURATION:-10}" THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-8}"
export ITEMS="${ITEMS:-10000}"
exec /usr/bin/python3 - <<'PY'
import os, shutil
import harness, proof_support as ps, test_news as feeds

work = harness.make_work_dir("bench-search")
apache = None
try:
    n = int(os.environ["ITEMS"])
    feed = os.path.join(work, "feed.xml")
    feeds.write_feed(feed, feeds.feed_xml(ps.headline_items(n, "n%05d")))
    apache = ps.bench_portal(work, feed)
    client = apache.client()
    # What a search must find: one headline's words find that item (and the items whose number
    # starts the same, e.g. 4217 alone); a word no item has finds nothing.
    r = client.get("/news/?q=number+4217")
    assert r.status == 200 and "Headline number 4217" in r.body, r.status
    r = client.get("/news/?q=zebra")
    assert r.status == 200 and "Headline number" not in r.body, r.status
    paths = ["/news/?q=headline", "/news/?q=number+%d", "/news/?q=sentence+item+%d",
             "/news/?q=titre&lang=fr", "/news/?q=zebra", "/news/?q=headline&page=50"]
    mix = []
    for i in range(60):
        p = paths[i % len(paths)]
        mix.append(p % ((i * 167) % n) if "%d" in p else p)
    script = ps.write_mix_script(os.path.join(work, "search.lua"), mix)
    seconds, threads = int(os.environ["DURATION"]), int(os.environ["THREADS"])
    conns = int(os.environ["CONNECTIONS"])
    ps.run_wrk(apache.url("/"), 3, conns, threads, script=script)  # warm-up
    r = ps.run_wrk(apache.url("/"), seconds, conns, threads, script=script)
    assert r["socket_errors"] == 0 and r["non2xx3xx"] == 0, r["out"]
    print("machine: %s" % ps.machine())
    print("feed: %d items; wrk -t%d -c%d -d%ds over %d searches" % (n, threads, conns, seconds,
                                                                   len(mix)))
    print("searches: %.0f req/s, p50 %.2f ms, p99 %.2f ms" % (r["rate"], r["p50_ms"],
                                                              r["p99_ms"]))
    ps.result_line("search p99 over %d items" % n, r["p99_ms"], "<=", 20, "ms")
finally:
    ps.stop_portal(apache)
    shutil.rmtree(work, ignore_errors=True)
PY
