#!/usr/bin/python3
"""Does the time of an answer tell whether an address has an account? (CONTRACT section 12,
"No oracle".) Against a harness-started httpd (authentication and verification plugins,
memcached, SQLite or PostgreSQL), times, for TRIES addresses with a verified account and TRIES
without one, interleaved:

  reset     POST /account/password/reset (a real code issued and its mail queued, or a decoy
            code state made and its mail composed and dropped)
  wrong     POST /account/password/reset/verify with a wrong code (422) for the same address

Every try uses a new address and a new client address (127.2.x.y), so that no cooldown or hourly
limit is hit and every request walks the full path. Prints the median and the 90th percentile
(client-side, milliseconds) of each, and the difference between the two kinds of address.

    bench/oracle_timing.py [PREFIX]     (default build/stage; /usr/bin/python3)
Environment: TRIES (default 200), DB (sqlite or pgsql; default sqlite).
"""

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "security"))

import harness  # noqa: E402
from account_attack import SourceClient, argon2id_hash  # noqa: E402

TRIES = int(os.environ.get("TRIES", "200"))
DB = os.environ.get("DB", "sqlite")


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main():
    prefix = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                             os.environ.get("NM_PREFIX", os.path.join(HERE, "..", "build",
                                                                      "stage")))
    work = harness.make_work_dir("oracle-timing")
    services = []
    try:
        mc = harness.Memcached(work_dir=work)
        mc.start()
        services.append(mc)
        db = "sqlite"
        if DB == "pgsql":
            pg = harness.Postgres(work_dir=work)
            pg.start()
            services.append(pg)
            db = pg
        apache = harness.Apache(prefix, os.path.join(work, "apache"), db=db, memcached=mc,
                                plugins=("authentication", "verification"))
        apache.start()
        services.append(apache)

        # TRIES verified accounts, straight into the database (one hash for all of them).
        phc = argon2id_hash("Known-Passw0rd!x")
        now = int(time.time())
        rows = ",".join("('known%d@example.org', '%s', 'verified', %d, 'en')" % (i, phc, now)
                        for i in range(TRIES))
        insert = ("INSERT INTO accounts (email, password_hash, state, created_at, lang) "
                  "VALUES " + rows)
        apache.client().get("/account/login")  # the schema exists once a child has started
        if DB == "pgsql":
            db.psql(insert)
        else:
            import sqlite3
            con = sqlite3.connect(apache.db_path, timeout=10)
            con.execute(insert)
            con.commit()
            con.close()
            import pwd
            pw = pwd.getpwnam(harness.RUN_USER)
            for name in os.listdir(apache.data_dir):
                os.chown(os.path.join(apache.data_dir, name), pw.pw_uid, pw.pw_gid)

        times = {(k, w): [] for k in ("known", "unknown") for w in ("reset", "wrong")}
        statuses = {key: set() for key in times}
        for i in range(TRIES):
            kinds = ("known", "unknown") if i % 2 == 0 else ("unknown", "known")
            for j, kind in enumerate(kinds):
                n = 2 * i + j
                c = SourceClient(apache.url(), "127.2.%d.%d" % (n // 250, 1 + n % 250))
                addr = "%s%d@example.org" % (kind, i)
                token = harness.csrf_token(c.get("/account/password/reset").body)
                t0 = time.perf_counter()
                r = c.post("/account/password/reset", {"email": addr, "csrf_token": token})
                times[(kind, "reset")].append((time.perf_counter() - t0) * 1000)
                statuses[(kind, "reset")].add(r.status)
                t0 = time.perf_counter()
                r = c.post("/account/password/reset/verify",
                           {"email": addr, "code": "000000", "csrf_token": token})
                times[(kind, "wrong")].append((time.perf_counter() - t0) * 1000)
                statuses[(kind, "wrong")].add(r.status)

        print("oracle timing: %d tries per kind, %s, %d CPUs, load %s" % (
            TRIES, DB, os.cpu_count(), open("/proc/loadavg").read().split()[0]))
        for what, label in (("reset", "POST /account/password/reset"),
                            ("wrong", "POST /account/password/reset/verify (wrong code)")):
            print(label)
            med = {}
            for kind in ("known", "unknown"):
                v = times[(kind, what)]
                med[kind] = statistics.median(v)
                print("  %-8s median %6.2f ms  p90 %6.2f ms  statuses %s" % (
                    kind, med[kind], pct(v, 90), sorted(statuses[(kind, what)])))
            print("  difference of medians (known - unknown): %+.2f ms" %
                  (med["known"] - med["unknown"]))
    finally:
        for s in reversed(services):
            try:
                s.stop()
            except Exception as e:  # noqa: BLE001 - tear down what can be
                print("stopping %s: %s" % (type(s).__name__, e), file=sys.stderr)


if __name__ == "__main__":
    main()
