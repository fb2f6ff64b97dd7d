#!/bin/sh
# A static page gated with `AuthType natomedia` / `Require natomedia-account`, requested by a
# signed-in visitor (session cookie), against the same page open, requested anonymously
# (CONTRACT section 14: goal >= 0.9). A third figure, the open page with the session cookie,
# shows what telling httpd who is signed in costs on its own. One server; the three are measured
# in alternating rounds, so machine noise hits them alike.
#   bench/gated_static.sh [PREFIX]   (PREFIX: an install prefix; default build/stage)
# Environment: DURATION (s per round, default 8), ROUNDS (3), CONNECTIONS (32), SIZE (4096 bytes).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export NM_PREFIX="${1:-${NM_PREFIX:-$here/../build/stage}}"
export NM_SOURCE_DIR="$here/.."
export DURATION="${DURATION:-8}" ROUNDS="${ROUNDS:-3}" CONNECTIONS="${CONNECTIONS:-32}"
export SIZE="${SIZE:-4096}"
cd "$here/../tests/integration"
exec /usr/bin/python3 - <<'PY'
import os, shutil
import harness, proof_support as ps

work = harness.make_work_dir("bench-gated")
apache = None
try:
    size, seconds = int(os.environ["SIZE"]), int(os.environ["DURATION"])
    conns = int(os.environ["CONNECTIONS"])
    apache = ps.standalone_portal(os.path.join(work, "portal"), media_size=64 << 10)
    for folder in ("open", "gated"):
        d = harness.make_dir(os.path.join(apache.htdocs, folder))
        with open(os.path.join(d, "page.html"), "wb") as f:
            f.write(b"s" * size)
        os.chmod(os.path.join(d, "page.html"), 0o644)
    apache.extra_conf += "\n".join([
        "", "LoadModule authn_core_module %s/mod_authn_core.so" % harness.APACHE_MODULES,
        "<Directory %s/gated>" % apache.htdocs, "  AuthType natomedia",
        "  Require natomedia-account", "</Directory>", ""])
    apache.write_config()
    apache.restart()
    email = "bench-gated@example.org"
    client = ps.verified_client(apache, email)
    cookie = ps.session_cookie_header(client)
    assert client.get("/gated/page.html").status == 200, "the signed-in client is not let in"
    assert apache.client().get("/gated/page.html").status == 401, "the gate is open"
    scripts = {
        "open": ps.write_mix_script(os.path.join(work, "open.lua"), ["/open/page.html"]),
        "open+cookie": ps.write_mix_script(os.path.join(work, "open-cookie.lua"),
                                           ["/open/page.html"], cookie=cookie),
        "gated": ps.write_mix_script(os.path.join(work, "gated.lua"), ["/gated/page.html"],
                                     cookie=cookie),
    }
    url = apache.url("/")
    for script in scripts.values():
        ps.run_wrk(url, 2, conns, script=script)  # warm-up
    rates = {k: [] for k in scripts}
    for _ in range(int(os.environ["ROUNDS"])):
        for key, script in scripts.items():
            r = ps.run_wrk(url, seconds, conns, script=script)
            assert r["socket_errors"] == 0 and r["non2xx3xx"] == 0, r["out"]
            rates[key].append(r["rate"])
    med = {k: sorted(v)[len(v) // 2] for k, v in rates.items()}
    print("machine: %s" % ps.machine())
    print("static page: %d bytes; wrk -c%d, %d rounds of %ds, median" % (size, conns,
                                                                       len(rates["open"]), seconds))
    for key in scripts:
        print("%-28s %10.0f req/s  %s" % (key, med[key], rates[key]))
    print("gated / open                 %10.3f (goal >= 0.9)" % (med["gated"] / med["open"]))
    print("open with cookie / open      %10.3f" % (med["open+cookie"] / med["open"]))
    ps.result_line("gated static / open", med["gated"] / med["open"], ">=", 0.9)
finally:
    ps.stop_portal(apache)
    shutil.rmtree(work, ignore_errors=True)
PY
