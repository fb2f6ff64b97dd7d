"""Tests of the harness itself: real memcached, SMTP sink, PostgreSQL and httpd, no module."""

import os
import smtplib
import socket
import subprocess
import unittest
from email.message import EmailMessage

import harness
from harness import IntegrationTest


class HelpersTest(unittest.TestCase):
    def test_free_port_is_bindable(self):
        port = harness.free_port()
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
        self.assertFalse(harness.port_open(port))

    def test_csrf_token(self):
        page = ('<form><input type="hidden" value="a&amp;b-1" name="csrf_token">'
                '<input name="email"></form>')
        self.assertEqual(harness.csrf_token(page), "a&b-1")
        self.assertEqual(harness.csrf_token("<input name='csrf_token' value='x'>"), "x")
        self.assertIsNone(harness.csrf_token("<input name='email' value='x'>"))

    def test_verification_code(self):
        msg = EmailMessage()
        msg.set_content("Your code is 123 456.\nIt expires in 30 minutes.")
        msg.add_alternative("<p>Your code is <b>999999</b></p>", subtype="html")
        self.assertEqual(harness.verification_code(msg), "123456")
        plain = EmailMessage()
        plain.set_content("No digits here, only 12345 and 1234567.")
        self.assertIsNone(harness.verification_code(plain))


class MemcachedTest(IntegrationTest):
    def test_answers_stops_and_restarts_on_same_port(self):
        mc = self.start_memcached()
        self.assertIn("STORED", mc.command_line("set k 0 0 1\r\nv"))
        self.assertIn("VALUE k 0 1", mc.command_line("get k"))
        port = mc.port
        mc.stop()
        self.assertFalse(harness.port_open(port))
        mc.start()
        self.assertEqual(mc.port, port)
        self.assertEqual(mc.command_line("get k"), "END\r\n")  # a restart empties the cache
        self.assertEqual(mc.config(), "--SERVER=127.0.0.1:%d" % port)


class SmtpSinkTest(IntegrationTest):
    def send(self, sink, to, subject):
        msg = EmailMessage()
        msg["From"] = "NATO Multimedia <noreply@example.org>"
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content("Your verification code is 042 917.")
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
            smtp.send_message(msg)

    def test_stores_messages_in_order(self):
        sink = self.start_smtp()
        self.send(sink, "a@example.org", "first")
        self.send(sink, "b@example.org", "second")
        got = sink.wait_for(lambda m: m["Subject"] == "second", timeout=10)
        self.assertEqual(got["X-Sink-Envelope-To"], "b@example.org")
        self.assertEqual([m["Subject"] for m in sink.messages()], ["first", "second"])
        self.assertEqual(harness.verification_code(sink.messages()[0]), "042917")
        self.assertEqual(sink.wait_for_to("b@example.org")["Subject"], "second")

    def test_failing_mode_refuses_then_accepts(self):
        sink = self.start_smtp()
        sink.set_failing(True)
        with self.assertRaises(smtplib.SMTPDataError) as ctx:
            self.send(sink, "a@example.org", "refused")
        self.assertEqual(ctx.exception.smtp_code, 451)
        sink.set_failing(False)
        self.send(sink, "a@example.org", "accepted")
        self.assertEqual([m["Subject"] for m in sink.messages()], ["accepted"])

    def test_wait_for_times_out(self):
        sink = self.start_smtp()
        with self.assertRaises(AssertionError):
            sink.wait_for(lambda m: True, timeout=0.5)


class PostgresTest(IntegrationTest):
    def test_query_and_restart(self):
        pg = self.start_postgres()
        self.assertEqual(pg.psql("SELECT current_user").strip(), "natomedia")
        pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (41)")
        pg.restart()
        self.assertEqual(pg.psql("SELECT x + 1 FROM t").strip(), "42")
        self.assertIn("port=%d" % pg.port, pg.dbd_params())
        out = subprocess.run([harness.PG_BIN + "/psql", "-h", "127.0.0.1", "-p", str(pg.port),
                              "-U", "natomedia", "-d", "natomedia", "-At", "-c", "SELECT 1"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout.strip(), "1", out.stderr)
        pg.stop()
        self.assertFalse(pg.running())


class ApacheTest(IntegrationTest):
    def test_serves_static_file_without_module(self):
        apache = self.make_apache(load_natomedia=False, db=None)
        rc, out = apache.configtest()
        self.assertEqual(rc, 0, out)
        client = apache.client()
        r = client.get("/static.txt")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, "static file served by httpd\n")
        self.assertEqual(r.header("Content-Type"), "text/plain")
        self.assertEqual(client.get("/missing").status, 404)
        self.assertIn('"GET /static.txt HTTP/1.1" 200', apache.access_log())
        apache.graceful()
        self.assertEqual(client.get("/static.txt").status, 200)
        pid = apache.pid
        apache.stop()
        self.assertFalse(harness.pid_alive(pid))
        self.assertFalse(harness.port_open(apache.port))

    def test_dbd_sqlite_children_run_as_www_data(self):
        apache = self.make_apache(load_natomedia=False)  # DBDriver sqlite3 in data/
        self.assertEqual(apache.client().get("/static.txt").status, 200)
        self.assertIn("DBDriver sqlite3", apache.config_text())
        if os.geteuid() == 0:
            kids = harness.children_of(apache.pid)
            self.assertTrue(kids)
            for k in kids:
                self.assertEqual(os.stat("/proc/%d" % k).st_uid, 33)  # www-data
            self.assertEqual(os.stat(apache.data_dir).st_uid, 33)
            self.assertEqual(os.stat(apache.secret_file).st_mode & 0o777, 0o640)
            self.assertEqual(os.path.getsize(apache.secret_file), 64)

    def test_bad_config_fails_start_with_log(self):
        apache = self.make_apache(load_natomedia=False, db=None, start=False,
                                  extra_conf="NoSuchDirective here")
        rc, out = apache.configtest()
        self.assertNotEqual(rc, 0)
        self.assertIn("NoSuchDirective", out)
        with self.assertRaises(harness.HarnessError):
            apache.start()

    def test_natomedia_config_text(self):
        mc = harness.Memcached(port=11999, work_dir=self.work_dir)  # not started
        apache = harness.Apache("/opt/nm", os.path.join(self.work_dir, "a"), memcached=mc,
                                feed="/srv/feed.xml", media_root="/srv/media")
        text = apache.config_text()
        self.assertIn("LoadModule natomedia_module /opt/nm/lib/apache2/modules/mod_natomedia.so",
                      text)
        self.assertIn('NatoMediaMemcached "--SERVER=127.0.0.1:11999"', text)
        self.assertIn("NatoMediaMailTransport file://%s/a/mail" % self.work_dir, text)
        for p in harness.ALL_PLUGINS:
            self.assertIn("NatoMediaPlugin %s\n" % p, text)
        self.assertIn("NatoMediaFeed /srv/feed.xml", text)
        self.assertIn("SetHandler natomedia-status", text)


if __name__ == "__main__":
    unittest.main()
