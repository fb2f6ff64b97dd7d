#!/bin/sh
# A static page gated with `AuthType natomedia` / `Require natomedia-account`, requested by a
# signed-in visitor (session cookie), against the same page open, requested anonymously
# (CONTRACT section 14: goal >= 0.9). Beside them, on the same server in the same run, the same
# page gated the way Apache itself offers (issue 18): mod_auth_form with mod_session_cookie +
# mod_session_crypto and mod_authn_file on a bcrypt htpasswd (`AuthFormProvider file`), requested
# with the session cookie its login handler gave. A fourth figure, the open page with the
# portal's session cookie, shows what telling httpd who is signed in costs on its own. The four
# are measured in alternating rounds, so machine noise hits them alike.
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
import os, shutil, subprocess
import harness, proof_support as ps

work = harness.make_work_dir("bench-gated")
apache = None
try:
    size, seconds = int(os.environ["SIZE"]), int(os.environ["DURATION"])
    conns = int(os.environ["CONNECTIONS"])
    apache = ps.standalone_portal(os.path.join(work, "portal"), media_size=64 << 10)
    for folder in ("open", "gated", "form"):
        d = harness.make_dir(os.path.join(apache.htdocs, folder))
        with open(os.path.join(d, "page.html"), "wb") as f:
            f.write(b"s" * size)
        os.chmod(os.path.join(d, "page.html"), 0o644)
    # mod_auth_form's user: a bcrypt (htpasswd -B, its default cost) password file.
    form_user, form_password = "bench-form", "correct horse battery staple"
    htpasswd = os.path.join(work, "htpasswd")
    subprocess.run(["htpasswd", "-c", "-B", "-b", htpasswd, form_user, form_password],
                   check=True, capture_output=True)
    os.chmod(htpasswd, 0o644)
    form_auth = ["  AuthType form", "  AuthName bench", "  AuthFormProvider file",
                 "  AuthUserFile %s" % htpasswd, "  Session On",
                 "  SessionCookieName benchsession path=/;httponly",
                 "  SessionCryptoPassphrase %s" % os.urandom(16).hex()]
    mods = ["authn_core", "authn_file", "authz_user", "request", "session", "session_cookie",
            "session_crypto", "auth_form"]
    apache.extra_conf += "\n".join(
        [""] + ["LoadModule %s_module %s/mod_%s.so" % (m, harness.APACHE_MODULES, m)
                for m in mods] +
        ["<Directory %s/gated>" % apache.htdocs, "  AuthType natomedia",
         "  Require natomedia-account", "</Directory>",
         "<Directory %s/form>" % apache.htdocs] + form_auth +
        ["  Require valid-user", "</Directory>",
         "<Location /form-login>", "  SetHandler form-login-handler",
         "  AuthFormLoginSuccessLocation /form/page.html"] + form_auth +
        ["  Require all granted", "</Location>", ""])
    apache.write_config()
    apache.restart()
    email = "bench-gated@example.org"
    client = ps.verified_client(apache, email)
    cookie = ps.session_cookie_header(client)
    assert client.get("/gated/page.html").status == 200, "the signed-in client is not let in"
    assert apache.client().get("/gated/page.html").status == 401, "the gate is open"
    form_client = apache.client()
    assert form_client.get("/form/page.html").status == 401, "mod_auth_form's gate is open"
    r = form_client.post("/form-login", {"httpd_username": form_user,
                                         "httpd_password": form_password})
    assert r.status in (302, 303) and "benchsession" in form_client.cookies, (r.status, r.body)
    form_cookie = "benchsession=" + form_client.cookies["benchsession"]
    r = form_client.get("/form/page.html")
    assert r.status == 200, "mod_auth_form did not let its user in: %d" % r.status
    scripts = {
        "open": ps.write_mix_script(os.path.join(work, "open.lua"), ["/open/page.html"]),
        "open+cookie": ps.write_mix_script(os.path.join(work, "open-cookie.lua"),
                                           ["/open/page.html"], cookie=cookie),
        "gated": ps.write_mix_script(os.path.join(work, "gated.lua"), ["/gated/page.html"],
                                     cookie=cookie),
        "auth_form": ps.write_mix_script(os.path.join(work, "form.lua"), ["/form/page.html"],
                                         cookie=form_cookie),
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
    labels = {"open": "open", "open+cookie": "open, portal cookie",
              "gated": "natomedia-gated", "auth_form": "auth_form-gated"}
    for key in scripts:
        print("%-28s %10.0f req/s  %s" % (labels[key], med[key], rates[key]))
    print("natomedia-gated / open       %10.3f (goal >= 0.9)" % (med["gated"] / med["open"]))
    print("auth_form-gated / open       %10.3f" % (med["auth_form"] / med["open"]))
    print("natomedia-gated / auth_form  %10.1f" % (med["gated"] / med["auth_form"]))
    print("open with cookie / open      %10.3f" % (med["open+cookie"] / med["open"]))
    ps.result_line("gated static / open", med["gated"] / med["open"], ">=", 0.9)
finally:
    ps.stop_portal(apache)
    shutil.rmtree(work, ignore_errors=True)
PY
