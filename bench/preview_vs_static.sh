#!/bin/sh
# /videos/ID/preview through mod_natomedia vs the same file served statically by the same Apache
# (issue 17: goal >= 0.95). The preview is public and goes out by httpd's file path as downloads
# do; wrk asks for the whole file, then for the player's first Range, on both URLs in turn.
#   bench/preview_vs_static.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: DURATION (s, default 10), THREADS (2), CONNECTIONS (20), SIZE_KIB (512).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export NM_PREFIX="${1:-${NM_PREFIX:-$here/../build/stage}}"
export NM_SOURCE_DIR="$here/.."
export DURATION="${DURATION:-10}" THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-20}"
export SIZE_KIB="${SIZE_KIB:-512}"
cd "$here/../tests/integration"
exec /usr/bin/python3 - <<'PY'
import os, re, shutil, subprocess
import harness, test_news as feeds

def wrk(url, range_header=None):
    cmd = ["wrk", "-t", os.environ["THREADS"], "-c", os.environ["CONNECTIONS"],
           "-d", os.environ["DURATION"] + "s", "--latency"]
    if range_header:
        cmd += ["-H", "Range: " + range_header]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, int(bad.group(1)) if bad else 0

work = harness.make_work_dir("bench-preview")
mc = apache = None
try:
    size = int(os.environ["SIZE_KIB"]) << 10
    media = harness.make_dir(os.path.join(work, "media"))
    clip = harness.make_dir(os.path.join(media, "clip"))
    path = os.path.join(clip, "sd360.mp4")
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    os.chmod(path, 0o644)
    rendition = feeds.rendition_of(path, "sd360", "clip/sd360.mp4", width=640, height=360)
    feed = os.path.join(work, "feed.xml")
    feeds.write_feed(feed, feeds.feed_xml([feeds.news_item("clip", feeds.BASE_TIME, "A clip",
                                                           video=True, renditions=[rendition])]))
    mc = harness.Memcached(work_dir=work).start()
    apache = harness.Apache(os.environ["NM_PREFIX"], os.path.join(work, "apache"), memcached=mc,
                            feed=feed, media_root=media, plugins=["media_gateway"])
    os.link(path, os.path.join(apache.htdocs, "sd360.mp4"))
    apache.start()
    preview_url, static_url = apache.url("/videos/clip/preview"), apache.url("/sd360.mp4")
    r = harness.Client(apache.url()).get("/videos/clip/preview")
    assert r.status == 200 and len(r.raw) == size, (r.status, len(r.raw))
    wrk(preview_url)  # warm-up
    print("file: %d bytes; wrk -t%s -c%s -d%ss" % (size, os.environ["THREADS"],
                                                  os.environ["CONNECTIONS"], os.environ["DURATION"]))
    for label, rng in (("whole file", None), ("Range 0-65535", "bytes=0-65535")):
        preview, bad = wrk(preview_url, rng)
        static, _ = wrk(static_url, rng)
        print("%-14s preview %9.0f req/s (non-2xx: %d)  static %9.0f req/s  ratio %.2f "
              "(goal >= 0.95)" % (label, preview, bad, static, preview / static))
finally:
    if apache:
        apache.stop()
    if mc:
        mc.stop()
    shutil.rmtree(work, ignore_errors=True)
PY
