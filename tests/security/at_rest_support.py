"""What test_at_rest and test_retention share: the portal's database seen from outside (SQLite or
PostgreSQL), a copy of it scanned for secrets, the account journeys that mail codes, and
natomedia-admin run as httpd's user.
"""

import base64
import hashlib
import os
import re
import sqlite3
import time

import harness
import portal_flows as flows

PASSWORD = flows.PASSWORD
NEW_PASSWORD = "Renewed-Pass9?word"
DAY = 86400


def now():
    return int(time.time())


def sha256_hex(token):
    """How the portal stores a session id or grant: SHA-256 of the cookie value."""
    return hashlib.sha256(token.encode()).hexdigest()


class PortalDb:
    """Reads and writes the database of one harness.Apache (SQLite file or harness.Postgres)."""

    def __init__(self, apache, work_dir):
        self.apache = apache
        self.pg = apache.db if isinstance(apache.db, harness.Postgres) else None
        self.work_dir = work_dir

    def rows(self, sql):
        if self.pg:
            out = self.pg.psql(sql)
            return [tuple(line.split("|")) for line in out.splitlines() if line != ""]
        con = sqlite3.connect("file:%s?mode=ro" % self.apache.db_path, uri=True, timeout=30)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def scalar(self, sql):
        rows = self.rows(sql)
        return int(rows[0][0]) if rows and rows[0][0] not in (None, "") else 0

    def execute(self, sql):
        """A write (the test ages rows by editing their timestamps)."""
        self.apache.sql(sql)

    def text_values(self):
        """(table, column, value) for every text or blob value of every table, read from a copy
        of the database: on SQLite an online back-up (as docs/operations.md makes them), whose raw
        bytes are scanned too; on PostgreSQL every text/bytea column."""
        out = []
        if self.pg:
            cols = self.pg.psql(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type IN "
                "('text', 'character varying', 'character', 'bytea') ORDER BY 1, 2")
            for line in cols.splitlines():
                if not line:
                    continue
                table, column, kind = line.split("|")
                expr = "encode(%s, 'escape')" % column if kind == "bytea" else column
                value = self.pg.psql("SELECT %s FROM %s WHERE %s IS NOT NULL"
                                     % (expr, table, column))
                out.append((table, column, value))
            return out
        copy = os.path.join(self.work_dir, "db-copy-%d.sqlite" % time.monotonic_ns())
        src = sqlite3.connect("file:%s?mode=ro" % self.apache.db_path, uri=True, timeout=30)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            src.close()
        with open(copy, "rb") as f:  # the file itself too: free pages and slack of pages
            out.append(("<backup file>", "<raw bytes>", f.read().decode("latin-1")))
        try:
            tables = [r[0] for r in dst.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()]
            for table in tables:
                cur = dst.execute('SELECT * FROM "%s"' % table)
                names = [d[0] for d in cur.description]
                for row in cur.fetchall():
                    for column, value in zip(names, row):
                        if isinstance(value, bytes):
                            out.append((table, column, value.decode("latin-1")))
                        elif isinstance(value, str):
                            out.append((table, column, value))
        finally:
            dst.close()
        return out

    def find(self, needles):
        """[(table, column, what)] for every needle (what -> text) found in the database copy."""
        found = []
        for table, column, value in self.text_values():
            for what, needle in needles.items():
                if needle and needle in value:
                    found.append((table, column, what))
        return found


def code_needles(code, label):
    """The code as digits and as base64 at each of the three alignments it can have in a
    base64-encoded text part."""
    raw = code.encode()
    return {
        label: code,
        label + " base64": base64.b64encode(raw).decode(),
        label + " base64+1": base64.b64encode(raw[2:5]).decode(),
        label + " base64+2": base64.b64encode(raw[1:4]).decode(),
    }


def body_needles(msg, label):
    """The delivered message's body: its base64 lines and its decoded text part."""
    with open(msg.path, "rb") as f:
        raw = f.read().decode("latin-1")
    body = re.split(r"\r?\n\r?\n", raw, 1)[1]
    needles = {}
    for i, line in enumerate(body.splitlines()):
        line = line.strip()
        if len(line) >= 16 and re.fullmatch(r"[A-Za-z0-9+/=]+", line):
            needles["%s body line %d" % (label, i)] = line
    text = harness.message_text(msg).strip()
    if text:
        needles[label + " text part"] = text[:60]
    return needles


def reset_password(test, client, email, mail, after):
    """The whole reset journey; returns (the code mailed, the grant cookie it earned)."""
    r = client.submit("/account/password/reset", {"email": email, "return_to": "/account/"})
    test.assertEqual(r.status, 303, r.body[:500])
    code = flows.code_from(mail, email, after=after)
    verify = "/account/password/reset/verify?email=" + email
    r = client.submit(verify, {"email": email, "code": code},
                      action="/account/password/reset/verify")
    test.assertEqual(r.status, 303, r.body[:500])
    grant = dict(client.cookies).get("nm_reset")
    test.assertTrue(grant, client.cookies)
    r = client.submit("/account/password/new",
                      {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    test.assertEqual(r.status, 200, r.body[:500])
    return code, grant


def admin(test, apache, *args, expect=0):
    res = flows.admin(test.prefix, apache.conf_path, *args)
    if expect is not None:
        test.assertEqual(res.returncode, expect, "natomedia-admin %s:\n%s%s"
                         % (" ".join(args), res.stdout, res.stderr))
    return res


def wait_delivered(db, timeout=30):
    """Until no message is queued in the outbox (the sender has taken every one)."""
    return flows.wait_for(
        lambda: db.scalar("SELECT COUNT(*) FROM mail_outbox WHERE status = 'queued'") == 0,
        timeout)
