#!/bin/sh
# Static files served by Apache with mod_natomedia loaded (every plugin, NatoMedia On) vs the same
# Apache configuration without the module (issue 18: goal >= 0.99; issue 8 had 0.97). Both servers run at once and
# are measured in alternating rounds, so machine noise hits both alike.
#   bench/static_module_overhead.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: DURATION (s per round, default 8), ROUNDS (3), CONNECTIONS (32), SIZE (4096 bytes).
set -eu
. "$(dirname "$0")/lib.sh"
export DURATION="${DURATION:-8}" ROUNDS="${ROUNDS:-3}" CONNECTIONS="${CONNECTIONS:-32}"
export SIZE="${SIZE:-4096}"
exec /usr/bin/python3 - <<'PY'
import os, shutil
import harness, proof_support as ps

work = harness.make_work_dir("bench-static")
with_mod = without = None
try:
    size, seconds = int(os.environ["SIZE"]), int(os.environ["DURATION"])
    conns = int(os.environ["CONNECTIONS"])
    with_mod = ps.standalone_portal(os.path.join(work, "with"), media_size=64 << 10)
    without = harness.Apache(None, os.path.join(work, "without", "apache"), load_natomedia=False,
                             db=None, extra_conf=ps.BIG_SERVER_CONF).start()
    urls = {"with": with_mod.url(ps.write_static(with_mod, "file.html", size, b"s")),
            "without": without.url(ps.write_static(without, "file.html", size, b"s"))}
    for url in urls.values():
        ps.run_wrk(url, 2, conns)  # warm-up
    rates = {"with": [], "without": []}
    for _ in range(int(os.environ["ROUNDS"])):
        for key in ("without", "with"):
            r = ps.run_wrk(urls[key], seconds, conns)
            assert r["socket_errors"] == 0 and r["non2xx3xx"] == 0, r["out"]
            rates[key].append(r["rate"])
    med = {k: sorted(v)[len(v) // 2] for k, v in rates.items()}
    print("static file: %d bytes; wrk -c%d, %d rounds of %ds, median" % (size, conns,
                                                                       len(rates["with"]), seconds))
    print("without module %10.0f req/s  %s" % (med["without"], rates["without"]))
    print("with module    %10.0f req/s  %s" % (med["with"], rates["with"]))
    print("ratio          %10.3f (goal >= 0.99)" % (med["with"] / med["without"]))
    ps.result_line("static with module / without", med["with"] / med["without"], ">=", 0.99)
finally:
    ps.stop_portal(with_mod)
    if without:
        without.stop()
    shutil.rmtree(work, ignore_errors=True)
PY
