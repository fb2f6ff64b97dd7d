"""The bad-input battery (issue 8, CONTRACT section 7): about 3000 malformed requests, sent over
raw sockets (so nothing is cleaned up on the way) to one portal with every plugin:

  oversized and malformed forms, invalid UTF-8 and NUL bytes (body, query, path), header floods,
  absurd Range and conditional headers, traversal ids on /news, /videos and /download, forged and
  giant cookies, CSRF-less and cross-site posts to every POST route, wrong methods, unknown routes,
  and a seeded random mutation of all of these.

Each request has the set of answers CONTRACT 7 allows (413 for bodies over 64 KiB; 400 for
malformed encoding, invalid UTF-8 and NUL; 405 with Allow for a wrong method; 404 for an unknown
route; 403 for a post without a valid CSRF token; httpd's own 400/414/431 for what it refuses
before the module sees it). Afterwards: no 500 in the access log, no crash or sanitizer report in
the error log, no file from outside the media root in any answer, nothing changed by a refused
post, and the portal still serves a signed-in download.
"""
# ctest-resource-lock: heavy
# ctest-timeout: 600

import concurrent.futures
import posixpath
import random
import re
import socket
import sys
import unittest
import urllib.parse

import harness
import proof_support as ps
from harness import IntegrationTest

CSRF_POSTS = ["/account/register", "/account/verify", "/account/verify/resend", "/account/login",
              "/account/logout", "/account/password/reset", "/account/password/reset/verify",
              "/account/password/new", "/newsletter/subscribe", "/newsletter/unsubscribe-account",
              "/account/password", "/account/sessions/end-others", "/account/delete",
              "/account/email", "/account/email/verify", "/account/email/verify/resend"]
ALL_POSTS = CSRF_POSTS + ["/newsletter/unsubscribe"]
GET_ROUTES = ["/account/register", "/account/login", "/account/", "/account/verify",
              "/account/password/reset", "/account/password/reset/verify",
              "/account/password/new", "/newsletter/unsubscribe", "/news/", "/news/t01",
              "/news/feed.atom", "/news/feed.rss", "/videos/", "/videos/clip",
              "/videos/clip/thumbnail", "/download/clip/small", "/", "/videos/clip/preview",
              "/videos/feed.atom", "/account/password", "/account/sessions", "/account/export",
              "/account/delete", "/account/email", "/account/email/verify"]
GET_ONLY = ["/news/", "/news/t01", "/news/feed.atom", "/news/feed.rss", "/videos/",
            "/videos/clip", "/videos/clip/thumbnail", "/download/clip/small", "/account/"]
POST_ONLY = ["/account/logout", "/account/verify/resend", "/newsletter/subscribe",
             "/newsletter/unsubscribe-account", "/account/email/verify/resend"]
UNKNOWN = ["/account/nope", "/account/verify/x/y", "/news/t01/extra/more", "/newsletter/x",
           "/download/clip", "/download/clip/small/extra", "/videos/clip/thumbnail/x",
           "/account/passwords", "/account/password/new/x", "/videos/clip/x",
           "/videos/clip/preview/x", "/account/sessions/x", "/account/email/x",
           "/account/email/verify/x"]

BAD_ENCODINGS = [b"%", b"%zz", b"a=%G1", b"a=%C3%28", b"a=%FF", b"a=%C0%AF", b"a=%ED%A0%80",
                 b"a=%F4%90%80%80", b"a=%00", b"a=b%00c", b"a=%E2%82", b"\xff\xfe=x",
                 b"a=\x00", b"a=\xc3\x28", b"email=%F8%88%80%80%80", b"x=%C1%BF"]
TRAVERSAL_IDS = ["..", "../..", "../../../../etc/passwd", "%2e%2e", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                 "..%2f..%2fetc%2fpasswd", "%2fetc%2fpasswd", "..\\..\\etc\\passwd",
                 "..%5c..%5cetc%5cpasswd", "/etc/passwd", "//etc/passwd", "%252e%252e%252f",
                 "clip%00", "..%00", "%c0%ae%c0%ae", "~root", "clip;rm", "a" * 3000,
                 "%2e%2e%5c%2e%2e%5cetc%5cpasswd", "....//....//etc/passwd", "clip%2f..%2f..",
                 "%u002e%u002e", "clip\\..\\..\\secret", "C:\\Windows\\win.ini", "\u00e9t\u00e9"]
ABSURD_RANGES = ["bytes=999999999999-", "bytes=-0", "bytes=5-1", ",".join(["bytes=0-0"] * 200),
                 "bytes=" + ",".join("%d-%d" % (i, i + 10) for i in range(0, 4000, 5)),
                 "bytes=a-b", "bytes=18446744073709551616-", "bytes=-18446744073709551616",
                 "bits=0-1", "bytes=", "bytes=--1", "bytes=0-9223372036854775807",
                 "bytes=-9223372036854775808", "bytes=1-2-3", "bytes= 0 - 1 ", "bytes=0-0,-1",
                 "bytes=\x00-1", "bytes=0-" + "9" * 400, "bytes=-1,-1,-1,-1", "x" * 8000]
CONDITIONALS = [("If-None-Match", "*"), ("If-None-Match", '"x", W/"y", garbage'),
                ("If-None-Match", '"' + "a" * 5000 + '"'), ("If-Modified-Since", "yesterday"),
                ("If-Modified-Since", "Tue, 99 Foo 99999 99:99:99 GMT"), ("If-Range", "garbage"),
                ("If-Range", '"nope"'), ("If-Match", '"nope"'), ("If-Unmodified-Since", "0")]
SECRET_MARKERS = ("root:x:0:0", "[fonts]", "SECRET-OUTSIDE")

HTTPD_REFUSALS = (400, 414, 431)  # httpd's own answers before any module runs


class RawResponse:
    def __init__(self, data):
        self.data = data
        head, _, self.body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        m = re.match(rb"HTTP/\d\.\d (\d{3})", lines[0]) if lines else None
        self.status = int(m.group(1)) if m else 0
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            self.headers.setdefault(k.strip().lower().decode("latin-1"),
                                    v.strip().decode("latin-1"))


def build(method, target, headers=(), body=None, port=0):
    lines = [b"%s %s HTTP/1.1" % (method.encode(), target if isinstance(target, bytes)
                                  else target.encode("utf-8", "surrogateescape")),
             b"Host: 127.0.0.1:%d" % port, b"Connection: close"]
    for k, v in headers:
        lines.append(k.encode("latin-1") + b": " + (v if isinstance(v, bytes)
                                                    else v.encode("utf-8", "surrogateescape")))
    if body is not None and not any(k.lower() in ("content-length", "transfer-encoding")
                                    for k, _ in headers):
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def send_raw(port, data, timeout=20):
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered (413) before the whole body went out: read what came back
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            chunks.append(b)
    return RawResponse(b"".join(chunks))


class Case:
    """One request and what may come back; `check(resp)` returns an error string or None."""

    def __init__(self, group, label, data, allowed, check=None):
        self.group, self.label, self.data, self.allowed, self.check = (group, label, data,
                                                                        allowed, check)


class BadInputTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.apache = ps.start_portal(self, media_size=256 << 10, n_text=25)
        self.port = self.apache.port
        self.signed = ps.verified_client(self.apache, "battery@example.org")
        self.signed_token = self.token_of(self.signed)
        self.anon = self.apache.client()
        self.anon_token = self.token_of(self.anon)
        self.other = self.apache.client()
        self.other_token = self.token_of(self.other)
        self.cases = []

    def token_of(self, client):
        for page in ("/account/password/reset", "/account/login", "/account/register"):
            token = harness.csrf_token(client.get(page).body)
            if token:
                return token
        raise AssertionError("no CSRF token on any form page")

    # --- case builders ------------------------------------------------------------------------

    def add(self, group, label, method, target, headers=(), body=None, allowed=(400,),
            check=None):
        data = build(method, target, list(headers), body, self.port)
        self.cases.append(Case(group, label, data, tuple(allowed), check))

    def add_raw(self, group, label, data, allowed, check=None):
        self.cases.append(Case(group, label, data, tuple(allowed), check))

    def form_headers(self, client, extra=()):
        return [("Content-Type", "application/x-www-form-urlencoded"),
                ("Cookie", client.cookie_header())] + list(extra)

    def with_token(self, token, payload):
        return b"csrf_token=" + urllib.parse.quote(token).encode() + b"&" + payload

    def allow_header_check(self, resp):
        allow = resp.headers.get("allow", "")
        if not re.fullmatch(r"[A-Z]+( *, *[A-Z]+)*", allow):
            return "405 without a proper Allow header: %r" % allow
        return None

    def build_cases(self):
        anon, signed = self.anon, self.signed
        # CSRF-less, forged and cross-site posts: 403, nothing changes.
        for path in CSRF_POSTS:
            fields = b"email=csrf-victim%40example.org&password=Abcdefgh-123x&" \
                     b"password_confirm=Abcdefgh-123x&code=123456"
            variants = [
                ("no token, no cookie", [("Content-Type", "application/x-www-form-urlencoded")],
                 fields),
                ("no token", self.form_headers(signed), fields),
                ("forged token", self.form_headers(signed), b"csrf_token=forged&" + fields),
                ("empty token", self.form_headers(signed), b"csrf_token=&" + fields),
                ("another browser's token", self.form_headers(signed),
                 self.with_token(self.other_token, fields)),
                ("token without its cookie", [("Content-Type",
                                               "application/x-www-form-urlencoded")],
                 self.with_token(self.signed_token, fields)),
                ("cross-site origin", self.form_headers(signed, [("Origin",
                                                                  "https://evil.example")]),
                 self.with_token(self.signed_token, fields)),
                ("cross-site fetch", self.form_headers(signed, [("Sec-Fetch-Site",
                                                                 "cross-site")]),
                 self.with_token(self.signed_token, fields)),
                ("token in the query", self.form_headers(signed), fields),
                ("token twice, one forged", self.form_headers(anon),
                 b"csrf_token=forged&" + self.with_token(self.anon_token, fields)),
            ]
            for label, headers, body in variants:
                target = path + ("?csrf_token=" + urllib.parse.quote(self.signed_token)
                                 if label == "token in the query" else "")
                allowed = (403,)
                if label == "token twice, one forged":
                    allowed = (400, 403)  # a repeated field may be refused as malformed
                self.add("csrf", "%s %s" % (path, label), "POST", target, headers, body, allowed)
        for token in ("", "garbage", "a" * 3000, "%FF"):
            self.add("csrf", "one-click unsubscribe with token %r" % token[:10], "POST",
                     "/newsletter/unsubscribe?token=" + token,
                     [("Content-Type", "application/x-www-form-urlencoded")],
                     b"List-Unsubscribe=One-Click", (400,))

        # Oversized bodies: 413, whatever the route and however they are sent.
        for path in ALL_POSTS:
            big = self.with_token(self.anon_token, b"email=" + b"a" * (65 * 1024))
            self.add("oversized", path + " 65 KiB", "POST", path, self.form_headers(anon), big,
                     (413,))
            self.add("oversized", path + " 1 MiB", "POST", path, self.form_headers(anon),
                     b"x=" + b"b" * (1 << 20), (413,))
            self.add("oversized", path + " Content-Length 10^12", "POST", path,
                     self.form_headers(anon, [("Content-Length", "1000000000000")]), b"x=1",
                     (413,) + HTTPD_REFUSALS)
            chunks = [b"x="] + [b"c" * 4096] * 20
            chunked = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
            self.add("oversized", path + " 80 KiB chunked", "POST", path,
                     self.form_headers(anon, [("Transfer-Encoding", "chunked")]), chunked,
                     (413,))

        # Malformed form encodings, invalid UTF-8, NUL bytes: 400 (with a valid token).
        for path in ALL_POSTS:
            for payload in BAD_ENCODINGS:
                self.add("malformed form", "%s %r" % (path, payload), "POST", path,
                         self.form_headers(anon), self.with_token(self.anon_token, payload),
                         (400,))
            for ctype in ("text/plain", "application/json", "application/xml",
                          "application/x-www-form-urlencoded; charset=utf-16"):
                allowed = (400, 403, 415)
                if path == "/newsletter/unsubscribe":
                    allowed = (400,)
                self.add("content type", "%s %s" % (path, ctype), "POST", path,
                         [("Content-Type", ctype), ("Cookie", anon.cookie_header())],
                         self.with_token(self.anon_token, b'{"a": 1}') if "utf-16" not in ctype
                         else "a=1".encode("utf-16"), allowed)
            self.add("malformed form", path + " too many fields", "POST", path,
                     self.form_headers(anon),
                     self.with_token(self.anon_token, b"&".join(b"f%d=1" % i
                                                                for i in range(2000))),
                     (400, 413))

        # Malformed queries on every GET route: 400.
        for path in GET_ROUTES:
            for q in BAD_ENCODINGS:
                self.add("malformed query", "%s?%r" % (path, q), "GET",
                         path.encode() + b"?" + q.replace(b" ", b"%20"),
                         [("Cookie", signed.cookie_header())], None, (400,))
        # Odd but well-formed queries: never a 500 (the page, a redirect or a 404).
        for path in GET_ROUTES:
            for q in ("page=-1", "page=99999999999999999999", "page=abc", "page=0",
                      "return_to=//evil.example", "return_to=https://evil.example/",
                      "lang=xx", "lang=" + "f" * 5000, "email=" + "e" * 3000 + "@x.org",
                      "token=" + "t" * 4000, "expires=-5&sig=x", "expires=99999999999999999999"
                      "&a=1&sig=AAAA.BBBB"):
                self.add("odd query", "%s?%s" % (path, q[:40]), "GET", "%s?%s" % (path, q),
                         [("Cookie", signed.cookie_header())], None,
                         (200, 303, 304, 400, 403, 404, 410))

        # Wrong methods: 405 with Allow; unknown routes: 404.
        for path in GET_ONLY:
            for method in ("POST", "PUT", "DELETE", "PATCH"):
                self.add("method", "%s %s" % (method, path), method, path,
                         self.form_headers(anon), self.with_token(self.anon_token, b"a=1"),
                         (405,), self.allow_header_check)
        for path in POST_ONLY:
            for method in ("GET", "PUT", "DELETE"):
                self.add("method", "%s %s" % (method, path), method, path,
                         [("Cookie", anon.cookie_header())], None, (405,),
                         self.allow_header_check)
        for path in UNKNOWN:
            for method in ("GET", "POST"):
                self.add("unknown route", "%s %s" % (method, path), method, path,
                         self.form_headers(anon), self.with_token(self.anon_token, b"a=1")
                         if method == "POST" else None, (404,))

        # Traversal ids: never a file, never outside the media root.
        def no_secret(resp):
            for marker in SECRET_MARKERS:
                if marker.encode() in resp.data:
                    return "answer holds %r" % marker
            return None

        patterns = ["/news/%s", "/videos/%s", "/videos/%s/thumbnail", "/download/%s/hd720",
                    "/download/clip/%s", "/download/%s/%s"]
        for ident in TRAVERSAL_IDS:
            for pattern in patterns:
                target = pattern.replace("%s", ident)
                # "/news/.." is "/", the home page (CONTRACT 13): a page, never a file.
                home = posixpath.normpath(urllib.parse.unquote(target)) in ("/", "//")
                for who, client in (("anonymous", anon), ("signed in", signed)):
                    self.add("traversal", "%s %s" % (who, target[:80]), "GET", target,
                             [("Cookie", client.cookie_header())], None,
                             (400, 403, 404) + ((303,) if who == "anonymous" else ()) +
                             ((200,) if home else ()),
                             no_secret)

        # Absurd Range and conditional headers on a download and a page.
        for rng in ABSURD_RANGES:
            for method in ("GET", "HEAD"):
                for path in ("/download/clip/small", "/news/", "/videos/clip/thumbnail"):
                    self.add("range", "%s %s Range %r" % (method, path, rng[:40]), method, path,
                             [("Cookie", signed.cookie_header()), ("Range", rng)], None,
                             (200, 206, 416) + HTTPD_REFUSALS)
        for name, value in CONDITIONALS:
            for path in ("/download/clip/small", "/news/", "/news/feed.atom"):
                self.add("conditional", "%s %s" % (path, name), "GET", path,
                         [("Cookie", signed.cookie_header()), (name, value),
                          ("Range", "bytes=0-10")], None, (200, 206, 304, 412, 416))

        # Forged and giant cookies: the visitor is anonymous (or refused with 400), never a 500.
        forged = ["nm_session=forged", "nm_session=" + "A" * 4000, "nm_session=%00%FF",
                  "nm_session=", "nm_csrf=forged; nm_session=x", "nm_lang=../../etc/passwd",
                  "nm_lang=" + "\u00e9" * 100, "=;;;=;", ";" * 1000,
                  "; ".join("c%d=v" % i for i in range(500)),
                  "nm_session=a; nm_session=b; nm_session=c", "nm_session=\"quoted\"",
                  "__Host-nm_session=forged", "nm_session=" + "../" * 200,
                  "nm_session=\x7f\x01\x02"]
        for cookie in forged:
            for path, ok in (("/account/", (303,)), ("/news/", (200,)),
                             ("/download/clip/small", (303,)), ("/account/login", (200,))):
                self.add("cookie", "%s Cookie %r" % (path, cookie[:30]), "GET", path,
                         [("Cookie", cookie)], None, ok + (400,))
        giant = "nm_session=" + "G" * 7000
        self.add("cookie", "7000-byte cookie", "GET", "/account/", [("Cookie", giant)], None,
                 (303, 400))
        for n in (50, 99):
            headers = [("Cookie", "c%d=%s" % (i, "v" * 60)) for i in range(n)]
            self.add("cookie", "%d Cookie headers" % n, "GET", "/news/", headers, None,
                     (200, 400))

        # Header floods and protocol garbage, refused by httpd or answered normally.
        flood = [("X-Flood-%d" % i, "v") for i in range(150)]
        self.add("headers", "150 headers", "GET", "/news/", flood, None, HTTPD_REFUSALS)
        self.add("headers", "one 9000-byte header", "GET", "/news/", [("X-Big", "h" * 9000)],
                 None, HTTPD_REFUSALS)
        self.add("headers", "60 KiB cookie", "GET", "/account/", [("Cookie", "a=" + "c" * 61440)],
                 None, HTTPD_REFUSALS)
        for name, value in [("Accept-Language", "x" * 4000), ("Accept-Language", "fr;q=abc,,,;"),
                            ("Accept-Language", "*;q=0.5," * 300), ("Origin", "null"),
                            ("Origin", "\u00e9vil"), ("User-Agent", "\x01\x02" * 100),
                            ("Content-Type", "multipart/form-data; boundary=" + "b" * 4000),
                            ("X-Forwarded-For", "1.2.3.4, " * 200), ("Host", "")]:
            for path in ("/news/", "/account/register"):
                self.add("headers", "%s %s" % (path, name), "GET", path, [(name, value)], None,
                         (200,) + HTTPD_REFUSALS)
        garbage = [b"GET /news/ HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n",
                   b"GET /news/\x00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                   b"GET /news/ t01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                   b"GET /" + b"n" * 10000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                   b"POST /account/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
                   b"POST /account/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n"
                   b"Connection: close\r\n\r\n",
                   b"POST /account/login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n"
                   b"Connection: close\r\n\r\n",
                   b"POST /account/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                   b"Connection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
                   b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 200,
                   b"GET /news/%%%% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                   b"GET /news/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]
        for i, g in enumerate(garbage):
            # httpd answers these itself (HTTP/9.9 is served as 1.1; a body that is not there
            # leaves the post without its CSRF token: 403).
            self.add_raw("protocol", "garbage #%d" % i, g,
                         (0, 200, 403, 404, 405, 501) + HTTPD_REFUSALS)

        self.add_mutations(random.Random(8), 1550)

    def add_mutations(self, rng, n):
        """Seeded random mutations of paths, queries, cookies and bodies: only the answers a
        refusal or a page may give, never a 500."""
        pieces = ["%", "%00", "%ff", "%2e%2e", "..", "/", "\\", "?", "&", "=", "#", ";", "\x00",
                  "\xff", "\u00e9", "\ud800", "%u0000", "%c0%af", "A" * 300, "'", '"', "<", ">",
                  "{{", "}}", "*", " ", "\t", "\r", "\n"]
        targets = GET_ROUTES + ALL_POSTS + UNKNOWN + ["/news/t01", "/videos/clip"]
        for i in range(n):
            path = rng.choice(targets)
            cut = rng.randrange(len(path) + 1)
            path = path[:cut] + "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 4))) \
                + path[cut:]
            query = "".join(rng.choice(pieces + ["a", "b", "page", "lang", "email"])
                            for _ in range(rng.randrange(0, 6)))
            target = path.encode("utf-8", "surrogatepass").replace(b" ", b"%20") \
                .replace(b"\r", b"").replace(b"\n", b"").replace(b"\t", b"")
            if query:
                target += b"?" + query.encode("utf-8", "surrogatepass").replace(b" ", b"+") \
                    .replace(b"\r", b"").replace(b"\n", b"").replace(b"\t", b"")
            method = rng.choice(["GET", "GET", "POST", "HEAD", "PUT"])
            headers = [("Cookie", rng.choice([self.anon.cookie_header(),
                                              self.signed.cookie_header(),
                                              "nm_session=" + "".join(rng.choice("ab%\x01=")
                                                                      for _ in range(20))]))]
            body = None
            if method in ("POST", "PUT"):
                token = rng.choice([self.anon_token, "forged", ""])
                raw = "".join(rng.choice(pieces + ["email", "code", "=", "&", "x"])
                              for _ in range(rng.randrange(0, 30)))
                body = b"csrf_token=" + token.encode() + b"&" + raw.encode("utf-8",
                                                                           "surrogatepass")
                headers.append(("Content-Type", rng.choice(
                    ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"])))
            self.add("mutation", "#%d %s %r" % (i, method, target[:60]), method, target,
                     # 301: /account, /news and /videos lead to their folder (redirect_to_slash)
                     headers, body, (200, 206, 301, 303, 304, 400, 401, 403, 404, 405, 410,
                                     413, 414, 416, 422, 429, 431))

    # --- the run ------------------------------------------------------------------------------

    def run_case(self, case):
        try:
            resp = send_raw(self.port, case.data)
        except OSError as e:
            return case, None, "no answer: %r" % e
        problem = None
        if resp.status not in case.allowed:
            problem = "status %d, allowed %s" % (resp.status, case.allowed)
        elif case.check:
            problem = case.check(resp)
        if resp.status == 405 and not problem:
            problem = self.allow_header_check(resp)
        return case, resp.status, problem

    def test_battery(self):
        self.build_cases()
        sys.stderr.write("\n== %d malformed requests\n" % len(self.cases))
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            results = list(pool.map(self.run_case, self.cases))
        by_group = {}
        problems = []
        for case, status, problem in results:
            counts = by_group.setdefault(case.group, {})
            counts[status] = counts.get(status, 0) + 1
            if problem:
                problems.append("%s | %s: %s" % (case.group, case.label, problem))
        for group, counts in sorted(by_group.items()):
            sys.stderr.write("   %-15s %s\n" % (group, ", ".join(
                "%s x %d" % (s, n) for s, n in sorted(counts.items(), key=lambda kv: kv[0] or 0))))
        sys.stderr.flush()
        if problems:
            sys.stderr.write("== answers outside CONTRACT 7:\n" + "\n".join(
                "   " + p[:300] for p in problems) + "\n")
        self.assertGreaterEqual(len(self.cases), 2500)
        self.assertEqual(problems[:60], [], "%d requests answered outside CONTRACT 7"
                         % len(problems))

        apache = self.apache
        self.assertEqual([x for x in ps.access_statuses(apache) if x[1] == 500], [])
        self.assertEqual([x for x in ps.access_statuses(apache) if x[1] >= 500 and
                          x[1] not in (501, 503)], [])
        self.assertEqual(ps.crash_lines(apache), [])
        # Refused posts changed nothing; the portal still serves the signed-in visitor.
        db = ps.Db(apache)
        self.assertEqual(db.scalar("SELECT COUNT(*) FROM accounts WHERE email LIKE 'csrf-%'"), 0)
        self.assertEqual(db.scalar("SELECT COUNT(*) FROM accounts"), 1)
        self.assertEqual(self.signed.get("/account/").status, 200)
        r = self.signed.get("/download/clip/small")
        self.assertEqual(r.status, 200)
        with open(apache.files["small"], "rb") as f:
            self.assertEqual(r.raw, f.read())


if __name__ == "__main__":
    unittest.main()
