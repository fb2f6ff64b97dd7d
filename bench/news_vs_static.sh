#!/bin/sh
# /news/ through mod_natomedia vs a static file of the same size on the same Apache (issue 6:
# goal >= 0.8). Starts a private httpd with the installed module (harness.py), a generated feed
# of 25 items, runs wrk on both URLs in turn and prints the rates and their ratio.
#   bench/news_vs_static.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: DURATION (s, default 10), THREADS (2), CONNECTIONS (20).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export NM_PREFIX="${1:-${NM_PREFIX:-$here/../build/stage}}"
export NM_SOURCE_DIR="$here/.."
export DURATION="${DURATION:-10}" THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-20}"
cd "$here/../tests/integration"
exec /usr/bin/python3 - <<'PY'
import os, re, shutil, subprocess
import harness, test_news as feeds

def wrk(url):
    out = subprocess.run(["wrk", "-t", os.environ["THREADS"], "-c", os.environ["CONNECTIONS"],
                          "-d", os.environ["DURATION"] + "s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, out, int(bad.group(1)) if bad else 0

work = harness.make_work_dir("bench-news")
mc = apache = None
try:
    feed = os.path.join(work, "feed.xml")
    items = [feeds.news_item("n%02d" % i, feeds.BASE_TIME + 60 * i, "Headline number %d" % i,
                             headline_fr="Titre numéro %d" % i,
                             summary="Summary of item %d, a sentence or two long." % i)
             for i in range(25)]
    feeds.write_feed(feed, feeds.feed_xml(items))
    mc = harness.Memcached(work_dir=work).start()
    apache = harness.Apache(os.environ["NM_PREFIX"], os.path.join(work, "apache"), memcached=mc,
                            feed=feed, plugins=["media_gateway"]).start()
    page = harness.Client(apache.url()).get("/news/")
    assert page.status == 200, page.status
    with open(os.path.join(apache.htdocs, "same-size.html"), "wb") as f:
        f.write(b"x" * len(page.raw))
    wrk(apache.url("/news/"))  # warm-up
    news, news_out, news_bad = wrk(apache.url("/news/"))
    static, static_out, _ = wrk(apache.url("/same-size.html"))
    print("page size: %d bytes; wrk -t%s -c%s -d%ss" % (len(page.raw), os.environ["THREADS"],
                                                       os.environ["CONNECTIONS"],
                                                       os.environ["DURATION"]))
    print("/news/       %10.0f req/s (non-2xx: %d)" % (news, news_bad))
    print("static file  %10.0f req/s" % static)
    print("ratio        %10.2f (goal >= 0.80)" % (news / static))
finally:
    if apache:
        apache.stop()
    if mc:
        mc.stop()
    shutil.rmtree(work, ignore_errors=True)
PY
