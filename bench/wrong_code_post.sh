#!/bin/sh
# A wrong verification code posted at 32 connections (issue 8: p99 <= 5 ms): POST /account/verify
# with a valid CSRF token and cookie and a wrong code, for an address with a live code. The first
# wrong entries answer 422, later ones 410 (the code is dead after 5): both walk the same path
# (CSRF check, memcached, the page), which is what is timed.
#
# Measured three ways, each beside Apache serving a small static file the same way in the same
# run (the machine's own floor):
#  - paced: 32 connections, each sending a POST every PACE ms (default 10: about 2,900 wrong
#    guesses a second, some 40 % of what the machine can serve on this path), client-side p99
#    as wrk reports it. This is what the goal (5 ms) is judged on;
#  - saturated: 32 connections sending as fast as they can, and the server's own time per
#    request under that load (access log %D). Printed for the record, not judged: with wrk on
#    the same 2 CPUs, the p99 there is queueing for the CPUs, and the static file's own p99 is
#    already several times 5 ms.
#   bench/wrong_code_post.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: DURATION (s, default 15), CONNECTIONS (32), THREADS (2), PACE (ms, 10).
set -eu
. "$(dirname "$0")/lib.sh"
export DURATION="${DURATION:-15}" CONNECTIONS="${CONNECTIONS:-32}" THREADS="${THREADS:-2}"
export PACE="${PACE:-10}"
exec /usr/bin/python3 - <<'PY'
import collections, os, shutil, urllib.parse
import harness, proof_support as ps

DURATION, CONNECTIONS = int(os.environ["DURATION"]), int(os.environ["CONNECTIONS"])
THREADS, PACE = int(os.environ["THREADS"]), int(os.environ["PACE"])


def log_mark(apache):
    return len(apache.access_log().splitlines())


def server_p99_ms(apache, mark, request_start):
    """p99 of %D (the last field, microseconds) of the log lines after `mark` for one request."""
    times = sorted(int(line.rsplit(" ", 1)[1]) / 1000.0
                   for line in apache.access_log().splitlines()[mark:]
                   if ('"%s' % request_start) in line)
    return times[min(len(times) - 1, int(len(times) * 0.99))], len(times)


def show(label, r):
    print("  %-34s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  socket errors %d" % (
        label, r["rate"], r["p50_ms"], r["p99_ms"], r["socket_errors"]))


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
    cookie = client.cookie_header()
    verify, static = apache.url("/account/verify"), apache.url("/static.txt")
    flat_post = ps.write_wrk_script(os.path.join(work, "post.lua"), body, cookie)
    flat_get = ps.write_wrk_script(os.path.join(work, "get.lua"))
    paced_post = ps.write_wrk_script(os.path.join(work, "post-paced.lua"), body, cookie, PACE)
    paced_get = ps.write_wrk_script(os.path.join(work, "get-paced.lua"), pace_ms=PACE)

    def wrk(url, script):
        return ps.run_wrk(url, DURATION, CONNECTIONS, threads=THREADS, script=script)

    ps.run_wrk(verify, 2, CONNECTIONS, script=flat_post)  # warm-up
    mark = log_mark(apache)
    saturated = wrk(verify, flat_post)
    server_p99, served = server_p99_ms(apache, mark, "POST /account/verify ")
    saturated_static = wrk(static, flat_get)
    paced = wrk(verify, paced_post)
    paced_static = wrk(static, paced_get)
    statuses = collections.Counter(st for _, st in ps.access_statuses(apache))

    print("POST /account/verify with a wrong code, wrk -c%d -t%d -d%ds; %s" % (
        CONNECTIONS, THREADS, DURATION, ps.machine()))
    print("saturated (each connection sends again as soon as it has its answer):")
    show("wrong-code POST", saturated)
    show("static file (the floor)", saturated_static)
    print("  server time per POST (%%D), p99 %.2f ms over %d requests" % (server_p99, served))
    print("paced (each connection sends every %d ms):" % PACE)
    show("wrong-code POST", paced)
    show("static file (the floor)", paced_static)
    print("answers in the access log: %s" % dict(statuses))
    assert not [s for s in statuses if s >= 500], statuses
    assert not any(x["socket_errors"] for x in (saturated, paced)), "socket errors"
    ps.result_line("wrong-code POST p99 at 32 connections paced %d ms, client" % PACE,
                   paced["p99_ms"], "<=", 5, "ms")
finally:
    ps.stop_portal(apache)
    shutil.rmtree(work, ignore_errors=True)
PY
