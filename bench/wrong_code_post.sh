#!/bin/sh
# A wrong verification code posted at 32 connections (issue 8: p99 <= 5 ms): POST /account/verify
# with a valid CSRF token and cookie and a wrong code, for an address with a live code. The first
# wrong entries answer 422, later ones 410 (the code is dead after 5): both walk the same path
# (CSRF check, memcached, the page), which is what is timed.
#   bench/wrong_code_post.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: DURATION (s, default 15), CONNECTIONS (32), THREADS (2).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export NM_PREFIX="${1:-${NM_PREFIX:-$here/../build/stage}}"
export NM_SOURCE_DIR="$here/.."
export DURATION="${DURATION:-15}" CONNECTIONS="${CONNECTIONS:-32}" THREADS="${THREADS:-2}"
cd "$here/../tests/integration"
exec /usr/bin/python3 - <<'PY'
import collections, os, re, shutil, urllib.parse
import harness, proof_support as ps

work = harness.make_work_dir("bench-wrongcode")
apache = None
try:
    apache = ps.standalone_portal(work, media_size=64 << 10)
    client = apache.client()
    email = "bench-wrong@example.org"
    r = ps.register(client, email)
    assert r.status == 303, (r.status, r.body[:500])
    assert ps.code_for(apache, email)
    page = client.get(ps.verify_path(email))
    token = harness.csrf_token(page.body)
    body = urllib.parse.urlencode({"csrf_token": token, "email": email, "code": "000000"})
    script = os.path.join(work, "wrong.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = "%s"\n'
                'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
                'wrk.headers["Cookie"] = "%s"\n' % (body, client.cookie_header()))
        f.write('statuses = {}\nfunction response(status, headers, body)\n'
                '  statuses[status] = (statuses[status] or 0) + 1\nend\n')
    ps.run_wrk(apache.url("/account/verify"), 2, int(os.environ["CONNECTIONS"]), script=script)
    r = ps.run_wrk(apache.url("/account/verify"), int(os.environ["DURATION"]),
                   int(os.environ["CONNECTIONS"]), threads=int(os.environ["THREADS"]),
                   script=script)
    statuses = collections.Counter(st for _, st in ps.access_statuses(apache))
    print("POST /account/verify with a wrong code, wrk -c%s -d%ss" % (os.environ["CONNECTIONS"],
                                                                    os.environ["DURATION"]))
    print("requests %d, %.0f req/s, p50 %.2f ms, p99 %.2f ms, socket errors %d" % (
        r["requests"], r["rate"], r["p50_ms"], r["p99_ms"], r["socket_errors"]))
    print("answers in the access log: %s" % dict(statuses))
    assert not [s for s in statuses if s >= 500], statuses
    ps.result_line("wrong-code POST p99 at 32 connections", r["p99_ms"], "<=", 5, "ms")
finally:
    ps.stop_portal(apache)
    shutil.rmtree(work, ignore_errors=True)
PY
