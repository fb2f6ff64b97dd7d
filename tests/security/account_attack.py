"""What the account attacks (test_preclaim.py, test_oracle.py) share: a portal with the
authentication and verification plugins on SQLite or PostgreSQL, the forms as a browser posts
them, the mail the portal delivers (file transport), the database as the tests read it, and the
normalisation that lets two answers for two addresses be compared.

A concrete test class mixes AccountAttack into harness.IntegrationTest and sets db_kind
("sqlite" or "pgsql") and, when needed, directives (extra NatoMedia directives).
"""

import ctypes
import http.client
import re
import time
import urllib.parse

import harness

ATTACKER_PASSWORD = "Attacker-Pass1!x"
OWNER_PASSWORD = "Owner-Passw0rd?y"
PLUGINS = ("authentication", "verification")


class SourceClient(harness.Client):
    """A Client whose connections come from one loopback address (another visitor for every
    per-IP limit), e.g. 127.0.0.7."""

    def __init__(self, base_url, source_ip, timeout=60.0):
        super().__init__(base_url, timeout=timeout)
        self.source_ip = source_ip

    def request(self, method, path, body=None, headers=None, cookies=True):
        hdrs = dict(self.default_headers)
        hdrs.update(headers or {})
        if cookies and self.cookies and not any(k.lower() == "cookie" for k in hdrs):
            hdrs["Cookie"] = self.cookie_header()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                          source_address=(self.source_ip, 0))
        try:
            conn.request(method, self._target(path), body=body, headers=hdrs)
            resp = conn.getresponse()
            result = harness.Response(resp.status, resp.reason, resp.headers, resp.read())
        finally:
            conn.close()
        if cookies:
            self._store_cookies(result.headers)
        return result


def argon2id_matches(password, phc):
    """libargon2's own verdict on password against a PHC string (no portal involved)."""
    lib = ctypes.CDLL("libargon2.so.1")
    lib.argon2id_verify.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    pw = password.encode()
    return lib.argon2id_verify(phc.encode(), pw, len(pw)) == 0


def normalise(body, address):
    """A page with what legitimately differs between two addresses blanked: CSRF tokens, the
    typed address (as typed, HTML-escaped or URL-encoded) and a typed code."""
    body = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', body)
    body = re.sub(r'name="code" value="[^"]*"', 'name="code" value=""', body)
    for form in {address, address.lower(), urllib.parse.quote(address, safe=""),
                 urllib.parse.quote(address.lower(), safe="")}:
        body = body.replace(form, "ADDRESS")
    return body


# Headers whose values must match between two addresses (Date and Content-Length differ with
# the clock and the address's length; Location is compared normalised).
COMPARED_HEADERS = ("Content-Type", "Cache-Control", "X-Content-Type-Options",
                    "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy")


def answer(response, address):
    """What an answer shows about an address: status, headers, page, with the address blanked."""
    names = sorted({k.lower() for k in response.headers.keys()} - {"date", "content-length"})
    return {
        "status": response.status,
        "header_names": names,
        "headers": {h: response.header(h) for h in COMPARED_HEADERS},
        "retry_after": response.header("Retry-After") is not None,
        "location": normalise(response.location or "", address),
        "set_cookie": sorted(c.split("=", 1)[0] for c in response.headers.get_all("Set-Cookie")
                             or []),
        "body": normalise(response.body, address),
    }


class AccountAttack:
    db_kind = "sqlite"
    directives = ""

    def setUp(self):
        super().setUp()
        self.mc = self.start_memcached()
        # A test may set its own: directives_test_NAME = "...".
        directives = getattr(self, "directives_" + self._testMethodName, self.directives)
        self.apache = self.make_apache(plugins=PLUGINS, db=self.start_database(),
                                       memcached=self.mc, directives=directives)
        self.wait_schema()

    def wait_schema(self, timeout=30.0):
        """The children apply the schema as they start: wait until the accounts table is
        there."""
        def ready():
            self.apache.client().get("/account/login")
            try:
                self.sql("SELECT COUNT(*) FROM accounts")
                return True
            except Exception:  # noqa: BLE001 - not yet
                return None
        if not harness.wait_until(ready, timeout, 0.2):
            raise AssertionError("no accounts table after %.0f s" % timeout)

    # --- database ---------------------------------------------------------------------------

    def sql(self, statement, params=()):
        """Rows of a statement on the portal's database (sqlite3 '?' placeholders); every value
        comes back as text."""
        return [tuple("" if v is None else str(v) for v in row)
                for row in self.apache.sql(statement, params)]

    def account_row(self, address):
        rows = self.sql("SELECT state, password_hash, created_at, lang FROM accounts "
                        "WHERE email = ?", (address,))
        return rows[0] if rows else None

    # --- mail -------------------------------------------------------------------------------

    def mails(self, address, subject):
        return [m for m in self.apache.mail.messages()
                if address.lower() in str(m.get("To", "")).lower()
                and subject.lower() in str(m.get("Subject", "")).lower()]

    def wait_mail(self, address, subject, count=1, timeout=30.0):
        """The count-th delivered message to address whose subject holds subject."""
        got = harness.wait_until(
            lambda: len(self.mails(address, subject)) >= count or None, timeout, 0.1)
        found = self.mails(address, subject)
        if not got:
            raise AssertionError("no mail %r #%d to %s; delivered: %s" % (
                subject, count, address,
                [(m["To"], m["Subject"]) for m in self.apache.mail.messages()]))
        return found[count - 1]

    def code_mail(self, address, count=1):
        return harness.verification_code(self.wait_mail(address, "verification code", count))

    # --- forms ------------------------------------------------------------------------------

    def client(self, source_ip=None):
        if source_ip:
            return SourceClient(self.apache.url(), source_ip)
        return self.apache.client()

    def register(self, c, address, password, lang=None):
        path = "/account/register" + ("?lang=" + lang if lang else "")
        return c.submit(path, {"email": address, "password": password,
                               "password_confirm": password}, action="/account/register")

    def verify_page(self, address):
        return "/account/verify?email=" + urllib.parse.quote(address, safe="")

    def verify(self, c, address, code):
        return c.submit(self.verify_page(address), {"email": address, "code": code},
                        action="/account/verify")

    def resend(self, c, address):
        return c.submit(self.verify_page(address), {"email": address},
                        action="/account/verify/resend")

    def reset(self, c, address):
        return c.submit("/account/password/reset", {"email": address})

    def reset_verify(self, c, address, code):
        page = "/account/password/reset/verify?email=" + urllib.parse.quote(address, safe="")
        return c.submit(page, {"email": address, "code": code},
                        action="/account/password/reset/verify")

    def login(self, c, address, password):
        return c.submit("/account/login", {"email": address, "password": password},
                        action="/account/login")

    # --- states -----------------------------------------------------------------------------

    def make_account(self, address, state, password=OWNER_PASSWORD):
        """A verified or disabled account put straight into the database (so that no code state
        of its own registration is left in memcached)."""
        self.sql("INSERT INTO accounts (email, password_hash, state, created_at, lang) "
                 "VALUES (?, ?, ?, ?, 'en')",
                 (address, harness.argon2id_hash(password), state, int(time.time())))
