#!/bin/sh
# The home page / through mod_natomedia vs a static file of the same bytes on the same Apache
# (issue 17: goal >= 1.0; the page comes from the page cache for anonymous visitors). A feed of
# 25 news items and 10 videos with thumbnails; wrk on both URLs in turn.
#   bench/home_vs_static.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
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
    return rate, int(bad.group(1)) if bad else 0

work = harness.make_work_dir("bench-home")
mc = apache = None
try:
    feed = os.path.join(work, "feed.xml")
    items = [feeds.news_item("n%02d" % i, feeds.BASE_TIME + 60 * i, "Headline number %d" % i,
                             headline_fr="Titre numéro %d" % i,
                             summary="Summary of item %d, a sentence or two long." % i)
             for i in range(25)]
    items += [feeds.news_item("v%02d" % i, feeds.BASE_TIME + 30 + 60 * i, "Video number %d" % i,
                              video=True, icon="v/thumb.jpg") for i in range(10)]
    feeds.write_feed(feed, feeds.feed_xml(items))
    mc = harness.Memcached(work_dir=work).start()
    apache = harness.Apache(os.environ["NM_PREFIX"], os.path.join(work, "apache"), memcached=mc,
                            feed=feed, plugins=["media_gateway"]).start()
    page = harness.Client(apache.url()).get("/")
    assert page.status == 200, page.status
    with open(os.path.join(apache.htdocs, "same-size.html"), "wb") as f:
        f.write(b"x" * len(page.raw))
    wrk(apache.url("/"))  # warm-up
    home, bad = wrk(apache.url("/"))
    static, _ = wrk(apache.url("/same-size.html"))
    print("page size: %d bytes; wrk -t%s -c%s -d%ss" % (len(page.raw), os.environ["THREADS"],
                                                       os.environ["CONNECTIONS"],
                                                       os.environ["DURATION"]))
    print("/            %10.0f req/s (non-2xx: %d)" % (home, bad))
    print("static file  %10.0f req/s" % static)
    print("ratio        %10.2f (goal >= 1.0)" % (home / static))
finally:
    if apache:
        apache.stop()
    if mc:
        mc.stop()
    shutil.rmtree(work, ignore_errors=True)
PY
