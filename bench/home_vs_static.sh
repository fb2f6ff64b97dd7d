#!/bin/sh
# The home page / through mod_natomedia vs a static file of the same bytes on the same Apache
# (issue 17: goal >= 1.0; the page comes from the page cache for anonymous visitors). A feed of
# 25 news items and 10 videos with thumbnails; wrk on both URLs in turn.
#   bench/home_vs_static.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: DURATION (s, default 10), THREADS (2), CONNECTIONS (20).
set -eu
. "$(dirname "$0")/lib.sh"
export DURATION="${DURATION:-10}" THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-20}"
exec /usr/bin/python3 - <<'PY'
import os, shutil
import harness, proof_support as ps, test_news as feeds

work = harness.make_work_dir("bench-home")
apache = None
try:
    feed = os.path.join(work, "feed.xml")
    items = ps.headline_items(25)
    items += [feeds.news_item("v%02d" % i, feeds.BASE_TIME + 30 + 60 * i, "Video number %d" % i,
                              video=True, icon="v/thumb.jpg") for i in range(10)]
    feeds.write_feed(feed, feeds.feed_xml(items))
    apache = ps.bench_portal(work, feed)
    ps.page_vs_static(apache, "/", "1.0")
finally:
    ps.stop_portal(apache)
    shutil.rmtree(work, ignore_errors=True)
PY
