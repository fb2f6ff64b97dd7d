#!/bin/sh
# A 256 MiB rendition through /download/ID/RENDITION (a signed link, so no cookie) vs the same
# file served statically by the same Apache (issue 7: goal >= 0.9). Also samples the children's
# resident memory while the gateway serves, to show it stays flat.
#   bench/download_vs_static.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: ROUNDS (downloads per side, default 11), SIZE_MIB (256).
set -eu
. "$(dirname "$0")/lib.sh"
export ROUNDS="${ROUNDS:-11}" SIZE_MIB="${SIZE_MIB:-256}"
exec /usr/bin/python3 - <<'PY'
import html, os, re, shutil, subprocess, threading, time, urllib.parse
import harness, proof_support as ps

def curl_rate(url):
    """Bytes/s of one download with curl to /dev/null."""
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{speed_download}",
                          url], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "200", out
    return float(out[1])

def largest_child_rss_kib(parent_pid):
    return max(ps.child_rss_kib(parent_pid).values(), default=0)

work = harness.make_work_dir("bench-download")
apache = None
try:
    size = int(os.environ["SIZE_MIB"]) << 20
    media, path, feed = ps.one_video(work, "big", "master", size, "Big video")
    apache = ps.bench_portal(work, feed, media_root=media, plugins=harness.ALL_PLUGINS,
                             directives=os.environ.get("EXTRA_DIRECTIVES", ""), start=False)
    os.link(path, os.path.join(apache.htdocs, "master.mp4"))
    apache.start()
    # The signed link the video page hands a signed-in visitor (for download managers).
    page = ps.verified_client(apache, "bench-download@example.org").get("/videos/big").body
    link = html.unescape(re.search(r'id="link-master" readonly value="([^"]+)"', page).group(1))
    parts = urllib.parse.urlsplit(link)
    gateway_url = apache.url(parts.path + "?" + parts.query)
    static_url = apache.url("/master.mp4")
    curl_rate(gateway_url), curl_rate(static_url)  # warm the page cache
    rss, stop = [], threading.Event()
    def sample():
        while not stop.is_set():
            rss.append(largest_child_rss_kib(apache.pid))
            time.sleep(0.05)
    gateway, static = [], []
    for _ in range(int(os.environ["ROUNDS"])):
        static.append(curl_rate(static_url))
        gateway.append(curl_rate(gateway_url))
    # Memory, in a round of its own so that sampling /proc does not slow the timed ones.
    sampler = threading.Thread(target=sample)
    sampler.start()
    curl_rate(gateway_url)
    stop.set()
    sampler.join()
    g, s = sorted(gateway)[len(gateway) // 2], sorted(static)[len(static) // 2]
    # Each round's two downloads are back to back: the median of the rounds' ratios is steadier
    # than the ratio of the medians on a machine whose memory bandwidth wanders from one
    # download to the next (a 256 MiB download takes about 0.1 s here).
    pairs = sorted(a / b for a, b in zip(gateway, static))
    print("file: %d MiB; %s rounds, each a static and a gateway download; medians of curl's "
          "speed" % (size >> 20, len(gateway)))
    print("gateway  %8.0f MB/s" % (g / 1e6))
    print("static   %8.0f MB/s" % (s / 1e6))
    print("per-round ratios (gateway / static): %s; their median:"
          % " ".join("%.2f" % x for x in pairs))
    print("ratio    %8.2f (goal >= 0.90)" % pairs[len(pairs) // 2])
    print("largest child RSS while the gateway served: %d KiB (min %d KiB)"
          % (max(rss), min(x for x in rss if x) if any(rss) else 0))
finally:
    ps.stop_portal(apache)
    shutil.rmtree(work, ignore_errors=True)
PY
