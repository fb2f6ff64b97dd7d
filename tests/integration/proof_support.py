"""Shared pieces of the proof-under-pressure tests (issue 8): test_faults.py, test_bad_input.py,
test_load_smoke.py, and the bench/ scripts.

A "portal" here is a private Apache with every plugin, a feed of text and video items whose
renditions are real files under a media root, and accounts made the visitor's way (register,
read the code from the mail, verify). Everything that tells whether a run went well is read from
outside: the access log's statuses, the error log's crash lines, the database's rows.

make_media(dir, size)          a media root with one video (VIDEO_ID) of two renditions
                               ("hd720": `size` random bytes, "small": 64 KiB) and a thumbnail.
portal_feed(media, n_text)     feed XML: the video item and n_text text items (VIDEO_ID first).
start_portal(test, ...)        make_media + feed + test.make_apache(...): an Apache attribute bag.
code_for(apache, email)        the latest code mailed to email (delivered mail, else the outbox).
register(client, email)        POST /account/register with its CSRF token; the Response.
verified_client(apache, email) a Client signed in to a new verified account.
Db(apache)                     rows(sql) / scalar(sql) over SQLite (read-only) or PostgreSQL.
crash_lines(apache)            error-log lines that mean a child crashed (or a sanitizer spoke).
access_statuses(apache)        [(request line, status)] from the access log.
child_rss_kib(pid)             {child pid: VmRSS KiB} of httpd's children.

For bench/ (stand-alone, no unittest; every bench sources bench/lib.sh first):
headline_items(n)              n text items "Headline number I" (en and fr), for a feed.
one_video(work, id, rid, size) a media root with one video of one rendition, and its feed.
bench_portal(work, feed)       memcached + an Apache on that feed; stop_portal() stops both.
standalone_portal(work)        bench_portal on make_media + portal_feed, sized for 256 connections.
write_static(apache, name, n)  an n-byte static file in htdocs, to measure httpd alone beside.
page_vs_static(apache, path)   wrk on a page and on a static file of its size; prints the ratio.
run_wrk(url, s, c)             wrk's figures as a dict; write_wrk_script: a POST and/or a pace.
result_line(name, v, op, goal) the RESULT| line bench/run-all.sh collects.
"""

import hashlib
import os
import re
import sqlite3
import subprocess
import time
import urllib.parse

import harness
import test_news as feeds

PASSWORD = "Pressure-Test-7-ok!"
VIDEO_ID = "clip"
CRASH_PATTERNS = re.compile(
    r"exit signal|AH00052|Segmentation fault|segfault|AddressSanitizer|LeakSanitizer|"
    r"runtime error:|core dumped|double free|stack smashing|terminate called", re.I)


# --------------------------------------------------------------------------------------------
# Media and feed


def make_media(base_dir, size=4 << 20):
    """A media root under base_dir, readable by www-data; returns (root, [rendition dicts])."""
    root = harness.make_dir(os.path.join(base_dir, "media"))
    clip = harness.make_dir(os.path.join(root, VIDEO_ID))
    renditions = []
    for rid, n in (("hd720", size), ("small", 64 << 10)):
        path = os.path.join(clip, rid + ".mp4")
        with open(path, "wb") as f:
            f.write(os.urandom(n))
        os.chmod(path, 0o644)
        renditions.append(feeds.rendition_of(path, rid, "%s/%s.mp4" % (VIDEO_ID, rid),
                                             filename="Pressure test %s.mp4" % rid))
    thumb = os.path.join(clip, "thumb.jpg")
    with open(thumb, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0" + os.urandom(1024) + b"\xff\xd9")
    os.chmod(thumb, 0o644)
    return root, renditions


def portal_feed(renditions, n_text=25, headline_prefix="Item"):
    items = [feeds.news_item(VIDEO_ID, feeds.BASE_TIME + 3600, "Pressure test video",
                             headline_fr="Vidéo d’essai", video=True,
                             icon=VIDEO_ID + "/thumb.jpg", renditions=renditions,
                             shotlist="Shot one. Shot two.", summary="A video for the tests.")]
    for i in range(n_text):
        items.append(feeds.news_item("t%02d" % i, feeds.BASE_TIME - 60 * i,
                                     "%s number %d" % (headline_prefix, i),
                                     headline_fr="Article numéro %d" % i,
                                     summary="Summary of item %d." % i,
                                     body="<p>Body of <em>item</em> %d.</p>" % i))
    return feeds.feed_xml(items)


def start_portal(test, media_size=4 << 20, n_text=25, **kw):
    """An Apache (test.make_apache) with all plugins, a feed and media; attributes added:
    feed_path, media_root, renditions (id -> rendition dict), files (id -> path)."""
    media, renditions = make_media(test.work_dir, media_size)
    feed_path = os.path.join(test.work_dir, "feed.xml")
    feeds.write_feed(feed_path, portal_feed(renditions, n_text))
    apache = test.make_apache(feed=feed_path, media_root=media, **kw)
    apache.feed_path = feed_path
    apache.media_root = media
    apache.renditions = {r["id"]: r for r in renditions}
    apache.files = {r["id"]: os.path.join(media, r["href"]) for r in renditions}
    return apache


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# Accounts, the visitor's way


def verify_path(email):
    return "/account/verify?email=" + urllib.parse.quote(email)


def register(client, email, password=PASSWORD):
    return client.submit("/account/register", {"email": email, "password": password,
                                               "password_confirm": password})


def _mail_folder(apache):
    return apache.smtp if apache.smtp is not None else apache.mail


def code_for(apache, email, timeout=30.0):
    """The code of the latest mail to email: delivered mail first, else the SQL outbox."""
    folder = _mail_folder(apache)

    def delivered():
        for m in reversed(folder.messages()):
            if email.lower() in str(m.get("To", "")).lower():
                return harness.verification_code(m)
        return None

    def queued():
        try:
            rows = Db(apache).rows("SELECT message FROM mail_outbox ORDER BY id")
        except Exception:  # the table may be busy or locked at this moment
            return None
        for (text,) in reversed(rows):
            text = text.decode() if isinstance(text, bytes) else text
            if email.lower() in text.lower():
                msg = harness.email.message_from_string(text, policy=harness.email.policy.default)
                return harness.verification_code(msg)
        return None

    return harness.wait_until(lambda: delivered() or queued(), timeout, 0.2)


def verify(client, apache, email):
    code = code_for(apache, email)
    if not code:
        raise AssertionError("no code mailed to %s" % email)
    return client.submit(verify_path(email), {"email": email, "code": code},
                         action="/account/verify")


def verified_client(apache, email, password=PASSWORD, source=None):
    """A client signed in to a new verified account; `source` a loopback address to send from
    (every per-client limit counts it as another visitor)."""
    client = apache.client()
    if source:
        client.source_address = (source, 0)
    r = register(client, email, password)
    if r.status != 303:
        raise AssertionError("register %s: %d\n%s" % (email, r.status, r.body[:1000]))
    r = verify(client, apache, email)
    if r.status != 200:
        raise AssertionError("verify %s: %d\n%s" % (email, r.status, r.body[:1000]))
    return client


def sign_in_post(apache, email, password=PASSWORD, return_to="/news/"):
    """A correct sign-in, ready to send again and again (floods): (form body, Cookie header)
    with a CSRF token and the cookie it is bound to, from a fresh client."""
    client = apache.client()
    token = harness.csrf_token(client.get("/account/login").body)
    body = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password,
                                   "return_to": return_to})
    return body, client.cookie_header()


def session_cookie_header(client):
    return client.cookie_header()


# --------------------------------------------------------------------------------------------
# Database


class Db:
    """Read access to the portal's database, SQLite (read-only URI) or PostgreSQL (psql)."""

    def __init__(self, apache):
        self.apache = apache

    def rows(self, sql):
        db = self.apache.db
        if isinstance(db, harness.Postgres):
            out = db.psql(sql)
            return [tuple(line.split("|")) for line in out.splitlines() if line != ""]
        conn = sqlite3.connect("file:%s?mode=ro" % self.apache.db_path, uri=True, timeout=30)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def scalar(self, sql):
        rows = self.rows(sql)
        return int(rows[0][0]) if rows and rows[0][0] not in (None, "") else 0

    def column(self, sql):
        return [r[0] for r in self.rows(sql)]


# --------------------------------------------------------------------------------------------
# Logs and processes


def crash_lines(apache):
    return [line for line in apache.error_log().splitlines() if CRASH_PATTERNS.search(line)]


def access_statuses(apache):
    """[(request line, status)] for every access-log line (format `... "%r" %>s %b %D`)."""
    out = []
    for line in apache.access_log().splitlines():
        parts = line.rsplit(" ", 3)
        if len(parts) != 4 or not parts[1].isdigit():
            continue
        m = re.search(r'"(.*)"$', parts[0])
        out.append((m.group(1) if m else parts[0], int(parts[1])))
    return out


def server_errors(apache):
    return [(req, st) for req, st in access_statuses(apache) if st >= 500]


def child_rss_kib(parent_pid):
    rss = {}
    for pid in harness.children_of(parent_pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                m = re.search(r"VmRSS:\s+(\d+)", f.read())
        except OSError:
            continue
        if m:
            rss[pid] = int(m.group(1))
    return rss


def run_wrk(url, seconds, connections, threads=2, script=None, timeout_s=10, env=None,
            headers=()):
    """Runs wrk; returns a dict: requests, rate, socket_errors (sum), non2xx3xx, p50_ms, p99_ms,
    out. `headers`: "Name: value" lines added to every request."""
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", "%ds" % seconds,
           "--latency", "--timeout", "%ds" % timeout_s]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120,
                         env=dict(os.environ, **(env or {})))
    out = res.stdout + res.stderr
    return parse_wrk(out)


def _ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out):
    r = {"out": out, "requests": 0, "rate": 0.0, "socket_errors": 0, "non2xx3xx": 0,
         "p99_ms": None, "p50_ms": None}
    m = re.search(r"(\d+) requests in", out)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        r["rate"] = float(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["socket_errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non2xx3xx"] = int(m.group(1))
    for pct, key in (("99", "p99_ms"), ("50", "p50_ms")):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+([\d.]+)(us|ms|s|m)\s*$" % pct, out, re.M)
        if m:
            r[key] = _ms(m.group(1), m.group(2))
    return r


def write_mix_script(path, paths, cookie=None, headers=None):
    """A wrk Lua script cycling over `paths` (each thread from its own offset), with a Cookie."""
    hdrs = dict(headers or {})
    if cookie:
        hdrs["Cookie"] = cookie
    lua_paths = ",\n  ".join('"%s"' % p.replace('"', '\\"') for p in paths)
    lua_headers = "\n".join('wrk.headers["%s"] = "%s"' % (k, v.replace('"', '\\"'))
                            for k, v in hdrs.items())
    text = """-- written by proof_support.write_mix_script
local paths = {
  %s
}
%s
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7)
end
local i = 0
function init(args)
  i = offset or 0
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
""" % (lua_paths, lua_headers)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def write_wrk_script(path, post=None, cookie=None, pace_ms=0):
    """A wrk Lua script: POST the form body `post` (with `cookie`) instead of wrk's GET, and/or
    make each connection wait `pace_ms` ms before each request (a paced load)."""
    with open(path, "w") as f:
        if post is not None:
            f.write('wrk.method = "POST"\nwrk.body = "%s"\n'
                    'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
                    'wrk.headers["Cookie"] = "%s"\n' % (post, cookie or ""))
        if pace_ms:
            f.write("function delay()\n  return %d\nend\n" % pace_ms)
    return path


def mix_paths(apache, base=""):
    """News pages, sign-in pages and downloads, in the proportions of the load tests."""
    news = ["/news/", "/news/?page=2", "/news/t01", "/news/t07", "/videos/",
            "/videos/%s" % VIDEO_ID, "/news/feed.atom", "/news/?lang=fr"]
    signin = ["/account/login", "/account/register", "/account/login?return_to=/videos/"]
    downloads = ["/download/%s/small" % VIDEO_ID]
    return [base + p for p in news * 2 + signin * 2 + downloads * 2]


def wait_status(fetch, want, timeout):
    """Calls fetch() until its Response has status want; returns the last Response."""
    last = [None]

    def ok():
        try:
            last[0] = fetch()
        except OSError:
            return False
        return last[0].status == want

    harness.wait_until(ok, timeout, 0.25)
    return last[0]


def now():
    return time.monotonic()


# --------------------------------------------------------------------------------------------
# Stand-alone portals for bench/ (no unittest): started and stopped by the caller.

# Enough workers that 256 wrk connections are all served (the harness's test default is 32
# workers, which makes httpd close keep-alive connections under that load, module or not).
# Keep-alive connections are kept for the whole run (MaxKeepAliveRequests 0), as a load balancer
# in front of a portal would. ThreadLimit must come with it: without it httpd lowers
# ThreadsPerChild to the default ThreadLimit of 64, so 4 children have 256 workers for 256
# connections; the event MPM then runs out of idle workers, closes keep-alive connections (wrk's
# "read" socket errors, a static file's as much as the portal's) and logs "scoreboard is full".
BIG_SERVER_CONF = "\n".join(["ServerLimit 4", "StartServers 4", "ThreadLimit 128",
                             "ThreadsPerChild 128",
                             "MaxRequestWorkers 512", "MinSpareThreads 128",
                             "MaxSpareThreads 512", "MaxConnectionsPerChild 0",
                             "MaxKeepAliveRequests 0", "KeepAliveTimeout 60"])


def headline_items(n, id_format="n%02d"):
    """n text items, one a minute from BASE_TIME: "Headline number I", in French too."""
    return [feeds.news_item(id_format % i, feeds.BASE_TIME + 60 * i, "Headline number %d" % i,
                            headline_fr="Titre numéro %d" % i,
                            summary="Summary of item %d, a sentence or two long." % i)
            for i in range(n)]


def one_video(work, video_id, rendition_id, size, headline, **rendition_kw):
    """work/media/VIDEO_ID/RENDITION_ID.mp4 of `size` random bytes (readable by www-data) and
    work/feed.xml of one video item with that rendition: (media root, file path, feed path)."""
    media = harness.make_dir(os.path.join(work, "media"))
    clip = harness.make_dir(os.path.join(media, video_id))
    path = os.path.join(clip, rendition_id + ".mp4")
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    os.chmod(path, 0o644)
    rendition = feeds.rendition_of(path, rendition_id, "%s/%s.mp4" % (video_id, rendition_id),
                                   **rendition_kw)
    feed_path = os.path.join(work, "feed.xml")
    feeds.write_feed(feed_path, feeds.feed_xml([feeds.news_item(
        video_id, feeds.BASE_TIME, headline, video=True, renditions=[rendition])]))
    return media, path, feed_path


def bench_portal(work, feed_path, plugins=("media_gateway",), extra_conf="", start=True, **kw):
    """memcached + an Apache (NM_PREFIX) on `feed_path` in `work`, started unless start=False
    (to put files in its htdocs first); stop both with stop_portal(). Every other keyword goes
    to harness.Apache (media_root=, directives=...)."""
    # As a Debian install runs it: mod_socache_shmcb loaded, so sessions are kept in the
    # module's shared-memory session cache (NatoMediaSessionCache's default).
    kw.setdefault("session_cache", True)
    mc = harness.Memcached(work_dir=work).start()
    try:
        apache = harness.Apache(os.environ["NM_PREFIX"], os.path.join(work, "apache"),
                                memcached=mc, feed=feed_path, plugins=list(plugins),
                                extra_conf=extra_conf, **kw)
        apache.memcached_service = mc
        apache.feed_path = feed_path
        if start:
            apache.start()
    except Exception:
        mc.stop()
        raise
    return apache


def standalone_portal(work, media_size=4 << 20, n_text=25, extra_conf=BIG_SERVER_CONF,
                      plugins=harness.ALL_PLUGINS, **kw):
    """memcached + media + feed + a started Apache in `work`; stop with stop_portal()."""
    media, renditions = make_media(work, media_size)
    feed_path = os.path.join(work, "feed.xml")
    feeds.write_feed(feed_path, portal_feed(renditions, n_text))
    apache = bench_portal(work, feed_path, plugins=plugins, extra_conf=extra_conf,
                          media_root=media, start=False, **kw)
    apache.media_root = media
    apache.renditions = {r["id"]: r for r in renditions}
    apache.files = {r["id"]: os.path.join(media, r["href"]) for r in renditions}
    try:
        apache.start()
    except Exception:
        stop_portal(apache)
        raise
    return apache


def stop_portal(apache):
    if apache is None:
        return
    apache.stop()
    mc = getattr(apache, "memcached_service", None)
    if mc:
        mc.stop()


def write_static(apache, name, size, fill=b"x"):
    """htdocs/NAME of `size` bytes of `fill`: a static file for httpd alone to serve beside the
    module's answers; its URL path."""
    path = os.path.join(apache.htdocs, name)
    with open(path, "wb") as f:
        f.write(fill * size)
    os.chmod(path, 0o644)
    return "/" + name


def page_vs_static(apache, path, goal):
    """GET `path` (200), then wrk (DURATION s, THREADS, CONNECTIONS from the environment) on it
    and on a static file of its size, in turn after a warm-up; prints the rates and the line
    bench/run-all.sh reads: "ratio X (goal >= GOAL)" (`goal` as it is to be printed)."""
    seconds, threads = int(os.environ["DURATION"]), int(os.environ["THREADS"])
    connections = int(os.environ["CONNECTIONS"])
    page = apache.client().get(path)
    assert page.status == 200, page.status
    static_path = write_static(apache, "same-size.html", len(page.raw))
    run_wrk(apache.url(path), seconds, connections, threads)  # warm-up
    module = run_wrk(apache.url(path), seconds, connections, threads)
    static = run_wrk(apache.url(static_path), seconds, connections, threads)
    print("page size: %d bytes; wrk -t%d -c%d -d%ds" % (len(page.raw), threads, connections,
                                                       seconds))
    print("%-12s %10.0f req/s (non-2xx: %d)" % (path, module["rate"], module["non2xx3xx"]))
    print("static file  %10.0f req/s" % static["rate"])
    print("ratio        %10.2f (goal >= %s)" % (module["rate"] / static["rate"], goal))


def machine():
    """nproc, CPU model and memory, for the record."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
    return "%d CPUs (%s), %.1f GiB RAM" % (os.cpu_count(), model, mem_kib / 1048576.0)


def result_line(name, value, goal_op, goal, unit=""):
    """The line bench/run-all.sh collects: RESULT|name|value|op|goal|unit|pass."""
    ok = {">=": value >= goal, "<=": value <= goal}[goal_op]
    print("RESULT|%s|%.3f|%s|%s|%s|%s" % (name, value, goal_op, goal, unit,
                                          "pass" if ok else "FAIL"))
    return ok
