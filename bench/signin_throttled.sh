#!/bin/sh
# A throttled sign-in costs no hash (issue 16, CONTRACT section 12): the throttle refuses an
# attempt before its password is checked, so refused attempts are served at page speed while
# checked ones are bound by argon2id.
#   bench/signin_throttled.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Two phases of DURATION seconds against one portal:
#   checked  wrong passwords for ever new addresses, each from another loopback address
#            (127.0.0.2 ...) so no per-client limit applies: every one is a 401 after one hash;
#   refused  wrong passwords for an account that is locked (its 5 places taken), from one
#            client, with wrk: every one is a 429.
# For each: answers per second and the CPU time httpd's children spent per answer (from
# /proc/PID/stat). The goals: a refused attempt costs under a tenth of a checked one, and no
# password was checked while refusing (natomedia_signins_failed_total did not move).
# Environment: DURATION (s, default 5), CONNECTIONS (default 2 x nproc).
set -eu
. "$(dirname "$0")/lib.sh"
export DURATION="${DURATION:-5}" CONNECTIONS="${CONNECTIONS:-$(( $(nproc) * 2 ))}"
exec /usr/bin/python3 - <<'PY'
import collections, os, re, shutil, subprocess, threading, time, urllib.parse
import harness, proof_support as ps

TICK = os.sysconf("SC_CLK_TCK")


def children_cpu_s(apache):
    """CPU seconds (user + system) used so far by httpd's children."""
    total = 0
    for pid in harness.children_of(apache.pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / TICK


def failed_total(apache):
    body = apache.client().get("/natomedia-status").body
    return int(re.search(r"^natomedia_signins_failed_total (\d+)", body, re.M).group(1))


def statuses(apache):
    return collections.Counter(st for req, st in ps.access_statuses(apache)
                               if req.startswith("POST /account/login"))


def checked_phase(apache, seconds, connections, token, cookie):
    """Wrong passwords for new addresses from many clients; (answers, elapsed)."""
    counts = collections.Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    serial = iter(range(10 ** 9))

    def worker():
        while time.monotonic() < deadline:
            with lock:
                n = next(serial)
            c = apache.client()
            c.source_address = ("127.0.%d.%d" % (1 + n // 250 % 250, 2 + n % 250), 0)
            body = urllib.parse.urlencode({"csrf_token": token, "password": "Wrong-Password1!",
                                           "email": "probe%d@example.org" % n})
            r = c.request("POST", "/account/login", body=body.encode(), cookies=False,
                          headers={"Cookie": cookie,
                                   "Content-Type": "application/x-www-form-urlencoded"})
            with lock:
                counts[r.status] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts, time.monotonic() - start


work = harness.make_work_dir("bench-throttled")
apache = None
try:
    seconds = int(os.environ["DURATION"])
    connections = int(os.environ["CONNECTIONS"])
    apache = ps.standalone_portal(work, media_size=64 << 10)
    victim = "bench-victim@example.org"
    ps.verified_client(apache, victim)
    login = apache.client()
    token = harness.csrf_token(login.get("/account/login").body)
    cookie = login.cookie_header()

    cpu0 = children_cpu_s(apache)
    checked, elapsed = checked_phase(apache, seconds, connections, token, cookie)
    cpu1 = children_cpu_s(apache)
    checked_rate = checked[401] / elapsed
    checked_cpu_ms = 1000.0 * (cpu1 - cpu0) / max(checked[401], 1)

    # Lock the victim: its 5 places taken by wrong passwords.
    for i in range(5):
        r = login.post("/account/login", {"csrf_token": token, "email": victim,
                                          "password": "Wrong-Password%d!" % i})
        assert r.status == 401, r.status
    body = urllib.parse.urlencode({"csrf_token": token, "email": victim,
                                   "password": "Wrong-Password9!"})
    script = ps.write_wrk_script(os.path.join(work, "refused.lua"), body, cookie)
    failed_before = failed_total(apache)
    before = statuses(apache)
    cpu2 = children_cpu_s(apache)
    wrk = ps.run_wrk(apache.url("/account/login"), seconds, connections, script=script)
    cpu3 = children_cpu_s(apache)
    after = statuses(apache)
    failed_after = failed_total(apache)
    refused = {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)}
    n_refused = sum(refused.values())
    refused_cpu_ms = 1000.0 * (cpu3 - cpu2) / max(n_refused, 1)

    print(ps.machine())
    print("checked: %d clients, %ds: answers %s, %.1f x 401/s, %.2f ms CPU a 401"
          % (connections, seconds, dict(checked), checked_rate, checked_cpu_ms))
    print("refused: wrk -c%d, %ds, one client, a locked account: answers %s, %.0f/s, "
          "%.3f ms CPU an answer; passwords checked meanwhile: %d"
          % (connections, seconds, refused, wrk["rate"], refused_cpu_ms,
             failed_after - failed_before))
    assert set(refused) == {429}, refused
    ps.result_line("refused sign-ins/s / checked (401) sign-ins/s", wrk["rate"] / checked_rate,
                   ">=", 10)
    ps.result_line("CPU of a refused sign-in / a checked one", refused_cpu_ms / checked_cpu_ms,
                   "<=", 0.1)
    ps.result_line("passwords checked while refusing", failed_after - failed_before, "<=", 0)
finally:
    ps.stop_portal(apache)
    shutil.rmtree(work, ignore_errors=True)
PY
