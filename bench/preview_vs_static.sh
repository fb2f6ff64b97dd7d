#!/bin/sh
# /videos/ID/preview through mod_natomedia vs the same file served statically by the same Apache
# (issue 17: goal >= 0.95). The preview is public and goes out by httpd's file path as downloads
# do; wrk asks for the whole file, then for the player's first Range, on both URLs in turn,
# ROUNDS times (the medians are compared: this machine's speed moves by 10-15 % between rounds).
#   bench/preview_vs_static.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: DURATION (s per round, default 6), ROUNDS (3), THREADS (2), CONNECTIONS (20),
#              SIZE_KIB (512).
set -eu
. "$(dirname "$0")/lib.sh"
export DURATION="${DURATION:-6}" ROUNDS="${ROUNDS:-3}" THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-20}"
export SIZE_KIB="${SIZE_KIB:-512}"
exec /usr/bin/python3 - <<'PY'
import os, shutil
import harness, proof_support as ps

SECONDS, THREADS = int(os.environ["DURATION"]), int(os.environ["THREADS"])
CONNECTIONS = int(os.environ["CONNECTIONS"])


def wrk(url, range_header=None):
    r = ps.run_wrk(url, SECONDS, CONNECTIONS, THREADS,
                   headers=["Range: " + range_header] if range_header else ())
    return r["rate"], r["non2xx3xx"]

work = harness.make_work_dir("bench-preview")
apache = None
try:
    size = int(os.environ["SIZE_KIB"]) << 10
    media, path, feed = ps.one_video(work, "clip", "sd360", size, "A clip", width=640, height=360)
    apache = ps.bench_portal(work, feed, media_root=media, start=False)
    os.link(path, os.path.join(apache.htdocs, "sd360.mp4"))
    apache.start()
    preview_url, static_url = apache.url("/videos/clip/preview"), apache.url("/sd360.mp4")
    r = harness.Client(apache.url()).get("/videos/clip/preview")
    assert r.status == 200 and len(r.raw) == size, (r.status, len(r.raw))
    wrk(preview_url)  # warm-up
    rounds = int(os.environ["ROUNDS"])
    print("file: %d bytes; wrk -t%d -c%d, %d rounds of %ds, median" % (size, THREADS, CONNECTIONS,
                                                                     rounds, SECONDS))
    kinds = (("whole file", None), ("Range 0-65535", "bytes=0-65535"))
    rates = {(label, url): [] for label, _ in kinds for url in (preview_url, static_url)}
    for _ in range(rounds):
        for label, rng in kinds:
            for url in (preview_url, static_url):
                rate, bad = wrk(url, rng)
                assert bad == 0, (label, url, bad)
                rates[(label, url)].append(rate)
    median = lambda v: sorted(v)[len(v) // 2]
    for label, _ in kinds:
        preview, static = median(rates[(label, preview_url)]), median(rates[(label, static_url)])
        print("%-14s preview %9.0f req/s %s  static %9.0f req/s %s  ratio %.2f (goal >= 0.95)"
              % (label, preview, ["%.0f" % r for r in rates[(label, preview_url)]], static,
                 ["%.0f" % r for r in rates[(label, static_url)]], preview / static))
        ps.result_line("preview / static, " + label, preview / static, ">=", 0.95)
finally:
    ps.stop_portal(apache)
    shutil.rmtree(work, ignore_errors=True)
PY
