#!/bin/sh
# /news/ through mod_natomedia vs a static file of the same size on the same Apache (issue 6:
# goal >= 0.8). Starts a private httpd with the installed module (harness.py), a generated feed
# of 25 items, runs wrk on both URLs in turn and prints the rates and their ratio.
#   bench/news_vs_static.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: DURATION (s, default 10), THREADS (2), CONNECTIONS (20).
set -eu
. "$(dirname "$0")/lib.sh"
export DURATION="${DURATION:-10}" THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-20}"
exec /usr/bin/python3 - <<'PY'
import os, shutil
import harness, proof_support as ps, test_news as feeds

work = harness.make_work_dir("bench-news")
apache = None
try:
    feed = os.path.join(work, "feed.xml")
    feeds.write_feed(feed, feeds.feed_xml(ps.headline_items(25)))
    apache = ps.bench_portal(work, feed)
    ps.page_vs_static(apache, "/news/", "0.80")
finally:
    ps.stop_portal(apache)
    shutil.rmtree(work, ignore_errors=True)
PY
