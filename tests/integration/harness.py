"""Integration-test harness: real servers on free loopback ports, torn down by PID.

Run the tests with Debian's interpreter, /usr/bin/python3 (it sees python3-aiosmtpd), from this
folder so that `import harness` works:

    cd tests/integration && NM_PREFIX=/path/to/stage /usr/bin/python3 -m unittest -v test_x.py

CTest does that (tests/integration/CMakeLists.txt): `integration.install` installs the build into
BUILD/stage, then every test_NAME.py runs as `integration.NAME` with these variables set:
NM_PREFIX (the install prefix), NM_SOURCE_DIR, NM_BUILD_DIR. NM_TEST_WORK (optional) is where
per-test work dirs go (default /tmp). A test file may carry, on a line of its own,
`# ctest-resource-lock: NAME` (tests holding the same lock never run at once; use `heavy` for
tests that load both cores) and `# ctest-timeout: SECONDS` (default 600).

What is here
------------
free_port()                    a TCP port on 127.0.0.1 nobody listens on right now.
Service                        base: a process started with Popen, a log file in its work dir,
                               ready when its port accepts connections; stop() sends SIGTERM,
                               then SIGKILL after a timeout. start() again reuses the same port.
Memcached(port=None, work_dir=None)
                               /usr/bin/memcached -l 127.0.0.1 -p PORT -U 0 (-u nobody as root);
                               .config() is the NatoMediaMemcached string ("--SERVER=...").
SmtpSink(port=None, work_dir=None)
                               smtp_sink.py under /usr/bin/python3; .messages() gives the stored
                               email.message.Message objects in arrival order, .wait_for(pred,
                               timeout) the first one pred accepts, .set_failing(True) makes it
                               answer 451 (temporary failure) until set_failing(False).
MailDir(path)                  the same messages()/wait_for() over a NatoMediaMailTransport
                               file:// folder (files under path/new/).
Postgres(port=None, work_dir=None)
                               a private PostgreSQL 15 cluster run as user postgres, trust auth
                               on 127.0.0.1, role and database `natomedia`; .dbd_params(),
                               .psql(sql) -> stdout, .stop(), .start(), .restart().
Apache(prefix, work_dir, ...)  writes work_dir/conf/httpd.conf for a private httpd (see the class
                               docstring for every option); .configtest() -> (rc, output),
                               .start(), .stop(), .graceful(), .restart(), .error_log(),
                               .access_log(), .url(path), .mail (a MailDir when mail_dir is used),
                               .sql(statement, params) on its database (SQLite or Postgres).
Client(base_url)               HTTP client keeping cookies and never following redirects:
                               get/head/post/request -> Response(status, reason, headers, body,
                               raw, location); .cookies dict; .submit(form_path, fields,
                               action=None) fetches a form page, adds its csrf_token and posts.
csrf_token(html)               the value of the form's csrf_token input (None when absent).
argon2id_hash(password, m_kib, t)
                               a PHC string made by libargon2 itself (accounts written directly).
verification_code(msg)         the 6-digit code in a message's text part (None when absent).
IntegrationTest                unittest.TestCase base: self.work_dir (0755, per test), self.prefix
                               (NM_PREFIX), and start_memcached()/start_smtp()/start_postgres()/
                               make_apache(..., start=True) which stop the service after the
                               test; start_database(), make_apache's db= for the class's db_kind
                               ("sqlite" or "pgsql", PostgreSQL then in self.pg). A failed test
                               keeps its work dir and prints the log paths and the tail of every
                               Apache error log; a passed test deletes it.
on_each_database(flows, name)  (NAMESqliteTest, NAMEPostgresTest): the concrete classes of tests
                               written once in the mixin flows, one per db_kind.

Children of httpd run as www-data: every work dir is made 0755, log files 0644, and the folders
httpd writes to (SQLite, mail) are owned by www-data.
"""

import ctypes
import email
import email.policy
import email.utils
import grp
import html
import http.client
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PYTHON = "/usr/bin/python3"
APACHE_BIN = "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"
MEMCACHED_BIN = "/usr/bin/memcached"
PG_BIN = "/usr/lib/postgresql/15/bin"
RUN_USER = "www-data"
ALL_PLUGINS = ("authentication", "verification", "newsletter", "media_gateway")


class HarnessError(RuntimeError):
    """A service could not be started or stopped; the message carries its log's tail."""


# --------------------------------------------------------------------------------------------
# Small helpers


def free_port():
    """A TCP port on 127.0.0.1 with no listener now (the kernel picks it; racy but rarely)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1", timeout=0.5):
    """True when something accepts a TCP connection on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def argon2id_hash(password, m_kib=19456, t=2):
    """A PHC string made with libargon2 itself (the portal's parameters unless told): an account
    a test writes into the database directly."""
    lib = ctypes.CDLL("libargon2.so.1")
    u32, size = ctypes.c_uint32, ctypes.c_size_t
    lib.argon2id_hash_encoded.argtypes = [u32, u32, u32, ctypes.c_char_p, size, ctypes.c_char_p,
                                          size, size, ctypes.c_char_p, size]
    salt = os.urandom(16)
    out = ctypes.create_string_buffer(256)
    pw = password.encode()
    rc = lib.argon2id_hash_encoded(t, m_kib, 1, pw, len(pw), salt, len(salt), 32, out, 256)
    if rc != 0:
        raise RuntimeError("argon2id_hash_encoded failed: %d" % rc)
    return out.value.decode()


def wait_until(pred, timeout, interval=0.05):
    """Polls pred() until it returns a true value (returned) or timeout seconds pass (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def pid_alive(pid):
    """True while pid names a process that is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


def children_of(pid):
    """PIDs whose parent is pid (from /proc)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            kids.append(int(entry))
    return kids


def kill_pid(pid, timeout=10.0, reap=None):
    """SIGTERM pid, wait up to timeout, then SIGKILL it. reap() (e.g. Popen.poll) avoids zombies."""
    def gone():
        if reap is not None:
            reap()
        return not pid_alive(pid)

    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if wait_until(gone, timeout):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_until(gone, 5.0)


def tail(path, lines=40):
    """The last lines of a text file ('' when it does not exist)."""
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def read_text(path):
    """The file's text ("" when it does not exist yet), undecodable bytes replaced."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def make_dir(path, owner=None, mode=0o755):
    """mkdir -p with an explicit mode (umask ignored) and, when root, an owner user name."""
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    if owner and os.geteuid() == 0:
        pw = pwd.getpwnam(owner)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return path


def make_work_dir(label="nm"):
    """A fresh 0755 dir under $NM_TEST_WORK (or /tmp) whose name starts with label."""
    base = os.environ.get("NM_TEST_WORK") or tempfile.gettempdir()
    if not os.path.isdir(base):
        make_dir(base)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)[-80:]
    path = tempfile.mkdtemp(prefix=safe + "-", dir=base)
    os.chmod(path, 0o755)
    return path


def verification_code(msg):
    """The 6-digit code in the text/plain part of msg (spaces or a dash inside allowed)."""
    text = message_text(msg)
    m = re.search(r"(?<![\d])(\d{3})[ -]?(\d{3})(?![\d])", text)
    return m.group(1) + m.group(2) if m else None


def message_text(msg):
    """The decoded text/plain part of an email.message.Message ('' when none)."""
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and not part.is_multipart():
            payload = part.get_payload(decode=True) or b""
            return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return ""


# --------------------------------------------------------------------------------------------
# Services


class Service:
    """A server process we start, watch through its port, and stop by PID.

    Subclasses set `name` and implement command(). The process's stdout and stderr go to
    work_dir/NAME-PORT.log. start() raises HarnessError (with the log's tail) when the process
    exits or the port does not open within start_timeout seconds.
    """

    name = "service"
    start_timeout = 20.0
    stop_timeout = 10.0

    def __init__(self, port=None, work_dir=None):
        self.port = port or free_port()
        self.work_dir = work_dir or make_work_dir(self.name)
        make_dir(self.work_dir)
        self.log_path = os.path.join(self.work_dir, "%s-%d.log" % (self.name, self.port))
        self.proc = None

    def command(self):
        raise NotImplementedError

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        if self.running():
            return self
        log = open(self.log_path, "ab")
        os.chmod(self.log_path, 0o644)
        try:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.work_dir,
                                         start_new_session=True)
        finally:
            log.close()
        self.wait_ready()
        return self

    def wait_ready(self):
        def ready():
            if self.proc.poll() is not None:
                raise HarnessError("%s exited with %s before it was ready; log %s:\n%s"
                                   % (self.name, self.proc.returncode, self.log_path,
                                      tail(self.log_path)))
            return port_open(self.port)

        if not wait_until(ready, self.start_timeout):
            self.stop()
            raise HarnessError("%s did not open port %d within %ss; log %s:\n%s"
                               % (self.name, self.port, self.start_timeout, self.log_path,
                                  tail(self.log_path)))

    def stop(self):
        if self.proc is None:
            return
        kill_pid(self.proc.pid, self.stop_timeout, reap=self.proc.poll)
        self.proc.poll()
        self.proc = None
        # The port is free again once nothing accepts on it (callers may start() again at once).
        wait_until(lambda: not port_open(self.port, timeout=0.2), 5.0)

    def restart(self):
        self.stop()
        return self.start()

    def log(self):
        return read_text(self.log_path)

    def log_files(self):
        return [self.log_path]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Memcached(Service):
    """A private memcached; stop() and start() again keep the port (outage tests)."""

    name = "memcached"

    def __init__(self, port=None, work_dir=None, memory_mb=64):
        super().__init__(port, work_dir)
        self.memory_mb = memory_mb

    def command(self):
        cmd = [MEMCACHED_BIN, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
               "-m", str(self.memory_mb)]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        return cmd

    def config(self):
        """This server as a NatoMediaMemcached / libmemcached configuration string."""
        return "--SERVER=127.0.0.1:%d" % self.port

    def command_line(self, line):
        """Sends one text-protocol line (e.g. 'stats', 'flush_all') and returns the reply."""
        ends = (b"END\r\n", b"OK\r\n", b"ERROR\r\n", b"STORED\r\n", b"DELETED\r\n",
                b"NOT_FOUND\r\n", b"EXISTS\r\n")
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(line.encode() + b"\r\n")
            data = b""
            while not data.endswith(ends):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data.decode(errors="replace")


class _MessageFolder:
    """messages()/wait_for() over a folder of RFC 5322 files, oldest first."""

    def _message_paths(self):
        raise NotImplementedError

    def messages(self):
        out = []
        for path in self._message_paths():
            with open(path, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            msg.path = path
            out.append(msg)
        return out

    def wait_for(self, pred=lambda m: True, timeout=20.0):
        """The first message (in arrival order) pred accepts; AssertionError after timeout."""
        def find():
            for m in self.messages():
                if pred(m):
                    return m
            return None

        found = wait_until(find, timeout, interval=0.1)
        if found is None:
            raise AssertionError("no matching message within %ss (have %d: %s)"
                                 % (timeout, len(self.messages()),
                                    [(m["To"], m["Subject"]) for m in self.messages()]))
        return found

    def wait_for_to(self, address, timeout=20.0, after=0):
        """The first message to address, skipping the first `after` messages to it."""
        seen = []

        def pred(m):
            if address.lower() in str(m.get("To", "")).lower():
                seen.append(m)
                return len(seen) > after
            return False

        def find():
            seen.clear()
            for m in self.messages():
                if pred(m):
                    return m
            return None

        found = wait_until(find, timeout, interval=0.1)
        if found is None:
            raise AssertionError("no message #%d to %s within %ss" % (after + 1, address, timeout))
        return found


class SmtpSink(Service, _MessageFolder):
    """An SMTP server (smtp_sink.py) storing each message as a file under work_dir."""

    name = "smtp"

    def __init__(self, port=None, work_dir=None):
        super().__init__(port, work_dir)
        self.mail_dir = make_dir(os.path.join(self.work_dir, "smtp-%d" % self.port))

    def command(self):
        return [SYSTEM_PYTHON, os.path.join(HERE, "smtp_sink.py"), "--port", str(self.port),
                "--dir", self.mail_dir]

    def url(self):
        """This server as a NatoMediaMailTransport URL."""
        return "smtp://127.0.0.1:%d" % self.port

    def set_failing(self, failing=True):
        flag = os.path.join(self.mail_dir, ".fail")
        if failing:
            open(flag, "w").close()
        elif os.path.exists(flag):
            os.unlink(flag)

    def _message_paths(self):
        names = sorted(n for n in os.listdir(self.mail_dir) if n.endswith(".eml"))
        return [os.path.join(self.mail_dir, n) for n in names]


class MailDir(_MessageFolder):
    """Messages a `file://DIR` NatoMediaMailTransport wrote under DIR/new/ (by mtime, then name)."""

    def __init__(self, path):
        self.path = path

    def url(self):
        return "file://" + os.path.abspath(self.path)

    def _message_paths(self):
        new = os.path.join(self.path, "new")
        try:
            names = [n for n in os.listdir(new) if not n.startswith(".")]
        except FileNotFoundError:
            return []
        paths = [os.path.join(new, n) for n in names]
        paths = [p for p in paths if os.path.isfile(p)]
        return sorted(paths, key=lambda p: (os.stat(p).st_mtime_ns, p))


class Postgres(Service):
    """A private PostgreSQL 15 cluster owned by the postgres user, on 127.0.0.1:PORT.

    Data and server log live in work_dir/pg-PORT (owned by postgres), the Unix socket in a short
    /tmp/nmpg-* dir removed by stop(). Trust auth; role `natomedia` owns database `natomedia`.
    """

    name = "postgres"
    start_timeout = 60.0

    def __init__(self, port=None, work_dir=None):
        super().__init__(port, work_dir)
        self.root = os.path.join(self.work_dir, "pg-%d" % self.port)
        self.data_dir = os.path.join(self.root, "data")
        self.socket_dir = None  # short /tmp path: a socket path must fit in 107 bytes
        self.server_log = os.path.join(self.root, "server.log")
        self.initialized = False

    def _as_postgres(self, args, check=True, timeout=120):
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=timeout,
                             cwd=self.root if os.path.isdir(self.root) else "/")
        with open(self.log_path, "a") as log:
            log.write("$ %s\n%s" % (" ".join(cmd), res.stdout))
        if check and res.returncode != 0:
            raise HarnessError("%s failed (%d):\n%s\nserver log %s:\n%s"
                               % (" ".join(args), res.returncode, res.stdout, self.server_log,
                                  tail(self.server_log)))
        return res

    def _init_cluster(self):
        make_dir(self.root, owner="postgres", mode=0o755)
        open(self.log_path, "a").close()
        os.chmod(self.log_path, 0o644)
        self._as_postgres([PG_BIN + "/initdb", "-D", self.data_dir, "-U", "postgres",
                           "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        self.initialized = True

    def start(self):
        if self.running():
            return self
        if not self.initialized:
            self._init_cluster()
        if self.socket_dir is None:
            self.socket_dir = tempfile.mkdtemp(prefix="nmpg-")
            make_dir(self.socket_dir, owner="postgres", mode=0o755)
        opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off" % (self.port, self.socket_dir))
        self._as_postgres([PG_BIN + "/pg_ctl", "-D", self.data_dir, "-l", self.server_log,
                           "-o", opts, "-w", "-t", str(int(self.start_timeout)), "start"])
        if not wait_until(lambda: port_open(self.port), 10):
            raise HarnessError("postgres is not listening on %d:\n%s"
                               % (self.port, tail(self.server_log)))
        if not self._exists("pg_roles", "rolname", "natomedia"):
            self.psql("CREATE ROLE natomedia LOGIN", user="postgres", dbname="postgres")
        if not self._exists("pg_database", "datname", "natomedia"):
            self.psql("CREATE DATABASE natomedia OWNER natomedia", user="postgres",
                      dbname="postgres")
        return self

    def _exists(self, table, column, value):
        out = self.psql("SELECT 1 FROM %s WHERE %s = '%s'" % (table, column, value),
                        user="postgres", dbname="postgres")
        return out.strip() == "1"

    @property
    def pid(self):
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    def running(self):
        pid = self.pid
        return pid is not None and pid_alive(pid)

    def stop(self):
        pid = self.pid
        if pid is not None and pid_alive(pid):
            self._stop_server(pid)
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            self.socket_dir = None

    def _stop_server(self, pid):
        res = self._as_postgres([PG_BIN + "/pg_ctl", "-D", self.data_dir, "-m", "fast", "-w",
                                 "-t", str(int(self.stop_timeout)), "stop"], check=False)
        if res.returncode != 0 and pid_alive(pid):
            kill_pid(pid, self.stop_timeout)
        wait_until(lambda: not port_open(self.port, timeout=0.2), 5.0)

    def dbd_params(self):
        """The DBDParams string for `DBDriver pgsql`."""
        return "host=127.0.0.1 port=%d dbname=natomedia user=natomedia" % self.port

    def psql(self, sql, user="natomedia", dbname="natomedia"):
        """Runs sql with psql (unaligned, tuples only) and returns stdout; raises on error."""
        res = subprocess.run([PG_BIN + "/psql", "-h", "127.0.0.1", "-p", str(self.port),
                              "-U", user, "-d", dbname, "-X", "-A", "-t", "-v",
                              "ON_ERROR_STOP=1", "-c", sql],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=60)
        if res.returncode != 0:
            raise HarnessError("psql %r failed: %s" % (sql, res.stderr.strip()))
        return res.stdout

    def log_files(self):
        return [self.log_path, self.server_log]


# --------------------------------------------------------------------------------------------
# Apache httpd


class Apache:
    """A private httpd (event MPM) for one test, configured in work_dir/conf/httpd.conf.

    Apache(prefix, work_dir, directives="", db="sqlite", memcached=None, smtp=None,
           mail_dir=None, plugins=ALL_PLUGINS, extra_conf="", port=None, feed=None,
           media_root=None, base_path=None, secret_file=None, load_natomedia=True,
           public_url=None, servername="127.0.0.1", plugin_dir=None)

    prefix      install prefix holding lib/apache2/modules/mod_natomedia.so (NM_PREFIX).
    work_dir    this server's own folder: conf/, logs/, run/, htdocs/, data/ (SQLite, owned by
                www-data), mail/ (file transport, owned by www-data), secret.
    directives  text put after the NatoMedia directives, inside the server config.
    db          "sqlite" (data/accounts.db), a Postgres instance, a (driver, params) pair, or
                None for no DBD directives.
    memcached   a Memcached, a list of them, a configuration string, or None (no directive).
    smtp        a SmtpSink (smtp://) — else mail_dir (a path; default work_dir/mail) is used as
                the file:// transport and `self.mail` reads what lands in it.
    plugins     plugin names or paths, in load order (NatoMediaPlugin lines).
    plugin_dir  NatoMediaPluginDir; default PREFIX/lib/natomedia/plugins (False: no directive).
    extra_conf  text appended at the end of httpd.conf (vhosts, <Location>s ...).
    secret_file share one secret between nodes; default: 64 random bytes written to
                work_dir/secret, mode 0640 root:www-data.
    load_natomedia=False writes a config without the module (harness self-tests).
    session_cache=True loads mod_socache_shmcb, so the module keeps sessions in its shared-memory
                cache (the default a Debian install gets); False (the default here) writes
                `NatoMediaSessionCache none`, so a change a test makes to the database behind
                httpd's back is seen at once rather than within NatoMediaSessionCacheTimeout;
                None neither loads the module nor writes the directive (the module's default).
    """

    def __init__(self, prefix, work_dir, directives="", db="sqlite", memcached=None, smtp=None,
                 mail_dir=None, plugins=ALL_PLUGINS, extra_conf="", port=None, feed=None,
                 media_root=None, base_path=None, secret_file=None, load_natomedia=True,
                 public_url=None, servername="127.0.0.1", plugin_dir=None, session_cache=False):
        self.prefix = os.path.abspath(prefix) if prefix else None
        self.work_dir = os.path.abspath(work_dir)
        self.port = port or free_port()
        self.directives = directives
        self.db = db
        self.memcached = memcached
        self.smtp = smtp
        self.plugins = list(plugins)
        self.extra_conf = extra_conf
        self.feed = feed
        self.media_root = media_root
        self.base_path = base_path
        self.load_natomedia = load_natomedia
        self.servername = servername
        self.session_cache = session_cache
        # The module's compiled-in plugin dir is CMAKE_INSTALL_PREFIX's, not the staged prefix.
        if plugin_dir is None and self.prefix:
            plugin_dir = os.path.join(self.prefix, "lib/natomedia/plugins")
        self.plugin_dir = plugin_dir
        self.public_url = public_url or "http://127.0.0.1:%d" % self.port
        if load_natomedia and not self.prefix:
            raise HarnessError("Apache: no install prefix (set NM_PREFIX)")

        make_dir(self.work_dir)
        self.conf_dir = make_dir(os.path.join(self.work_dir, "conf"))
        self.logs_dir = make_dir(os.path.join(self.work_dir, "logs"))
        self.run_dir = make_dir(os.path.join(self.work_dir, "run"))
        self.htdocs = make_dir(os.path.join(self.work_dir, "htdocs"))
        self.data_dir = make_dir(os.path.join(self.work_dir, "data"), owner=RUN_USER)
        self.conf_path = os.path.join(self.conf_dir, "httpd.conf")
        self.pid_file = os.path.join(self.run_dir, "httpd.pid")
        self.error_log_path = os.path.join(self.logs_dir, "error.log")
        self.access_log_path = os.path.join(self.logs_dir, "access.log")
        self.db_path = os.path.join(self.data_dir, "accounts.db")
        self.mail = None
        self.mail_dir = None
        if smtp is None:
            self.mail_dir = make_dir(mail_dir or os.path.join(self.work_dir, "mail"),
                                     owner=RUN_USER)
            self.mail = MailDir(self.mail_dir)
        self.secret_file = secret_file or self._write_secret()
        self._write_static()
        self.write_config()

    # --- configuration ----------------------------------------------------------------------

    def _write_secret(self):
        path = os.path.join(self.work_dir, "secret")
        if not os.path.exists(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(64))
        os.chmod(path, 0o640)
        if os.geteuid() == 0:
            os.chown(path, 0, grp.getgrnam(RUN_USER).gr_gid)
        return path

    def _write_static(self):
        with open(os.path.join(self.htdocs, "static.txt"), "w") as f:
            f.write("static file served by httpd\n")
        with open(os.path.join(self.htdocs, "index.html"), "w") as f:
            f.write("<!doctype html><title>harness</title><p>harness docroot</p>\n")

    def _db_lines(self):
        if self.db is None:
            return []
        if self.db == "sqlite":
            return ["DBDriver sqlite3", "DBDParams %s" % self.db_path]
        if isinstance(self.db, Postgres):
            return ["DBDriver pgsql", 'DBDParams "%s"' % self.db.dbd_params()]
        driver, params = self.db
        return ["DBDriver %s" % driver, 'DBDParams "%s"' % params]

    def _memcached_config(self):
        m = self.memcached
        if m is None:
            return None
        if isinstance(m, str):
            return m
        if isinstance(m, Memcached):
            m = [m]
        return " ".join(x.config() for x in m)

    def natomedia_lines(self):
        lines = ["NatoMedia On",
                 "NatoMediaSecretFile %s" % self.secret_file,
                 "NatoMediaPublicURL %s" % self.public_url]
        if self.plugin_dir:
            lines.append("NatoMediaPluginDir %s" % self.plugin_dir)
        if self.base_path:
            lines.append("NatoMediaBasePath %s" % self.base_path)
        mc = self._memcached_config()
        if mc is not None:
            lines.append('NatoMediaMemcached "%s"' % mc)
        transport = self.smtp.url() if self.smtp is not None else self.mail.url()
        lines.append("NatoMediaMailTransport %s" % transport)
        lines.append('NatoMediaMailFrom "NATO Multimedia <noreply@example.org>"')
        if self.session_cache is False:
            lines.append("NatoMediaSessionCache none")
        for p in self.plugins:
            lines.append("NatoMediaPlugin %s" % p)
        if self.feed:
            lines.append("NatoMediaFeed %s" % os.path.abspath(self.feed))
        if self.media_root:
            lines.append("NatoMediaMediaRoot %s" % os.path.abspath(self.media_root))
        return lines

    def config_text(self):
        mods = ["mpm_event", "authz_core", "authz_host", "mime", "dbd"]
        if self.session_cache:
            mods.append("socache_shmcb")
        out = ["# Written by tests/integration/harness.py",
               "ServerRoot %s" % self.work_dir,
               "ServerName %s" % self.servername,
               "PidFile %s" % self.pid_file,
               "DefaultRuntimeDir %s" % self.run_dir,
               "Mutex file:%s default" % self.run_dir,
               "Listen 127.0.0.1:%d" % self.port]
        out += ["LoadModule %s_module %s/mod_%s.so" % (m, APACHE_MODULES, m) for m in mods]
        if self.load_natomedia:
            out.append("LoadModule natomedia_module %s/lib/apache2/modules/mod_natomedia.so"
                       % self.prefix)
        if os.geteuid() == 0:
            out += ["User %s" % RUN_USER, "Group %s" % RUN_USER]
        out += ["ErrorLog %s" % self.error_log_path,
                "LogLevel warn%s" % (" natomedia:info" if self.load_natomedia else ""),
                'LogFormat "%h %l %u %t \\"%r\\" %>s %b %D" timed',
                "CustomLog %s timed" % self.access_log_path,
                "TypesConfig /etc/mime.types",
                "StartServers 1", "ServerLimit 2", "ThreadsPerChild 16",
                "MaxRequestWorkers 32", "MinSpareThreads 4", "MaxSpareThreads 32",
                "GracefulShutdownTimeout 5",
                "DocumentRoot %s" % self.htdocs,
                "<Directory />", "  AllowOverride None", "  Require all denied", "</Directory>",
                "<Directory %s>" % self.htdocs, "  Require all granted", "</Directory>"]
        out += self._db_lines()
        if self.load_natomedia:
            out += self.natomedia_lines()
            out += ["<Location /natomedia-status>", "  SetHandler natomedia-status",
                    "  Require ip 127.0.0.1", "</Location>"]
        if self.directives:
            out.append(self.directives)
        if self.extra_conf:
            out.append(self.extra_conf)
        return "\n".join(out) + "\n"

    def write_config(self):
        """(Re)writes httpd.conf from the attributes; call after changing them, then graceful()."""
        with open(self.conf_path, "w") as f:
            f.write(self.config_text())
        os.chmod(self.conf_path, 0o644)
        return self.conf_path

    # --- control ----------------------------------------------------------------------------

    def _apache(self, *args, timeout=60):
        res = subprocess.run([APACHE_BIN, "-f", self.conf_path] + list(args),
                             stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=timeout, cwd=self.work_dir)
        return res.returncode, (res.stdout + res.stderr)

    def configtest(self):
        """(exit code, combined output) of `apache2 -f CONF -t`."""
        return self._apache("-t")

    @property
    def pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def running(self):
        pid = self.pid
        return pid is not None and pid_alive(pid)

    def start(self, timeout=30.0):
        """Starts httpd and waits for its port; HarnessError with the error log's tail if not."""
        if self.running():
            return self
        rc, output = self._apache("-k", "start")
        if rc != 0:
            raise HarnessError("apache2 -k start failed (%d):\n%s\nerror log %s:\n%s"
                               % (rc, output, self.error_log_path, tail(self.error_log_path)))
        up = wait_until(lambda: self.running() and port_open(self.port), timeout)
        if not up:
            raise HarnessError("httpd did not come up on port %d (start output: %s)\n"
                               "error log %s:\n%s" % (self.port, output.strip(),
                                                      self.error_log_path,
                                                      tail(self.error_log_path)))
        return self

    def stop(self, timeout=15.0):
        """Stops httpd by the PID in its PidFile (SIGTERM, then SIGKILL to it and children)."""
        pid = self.pid
        if pid is None or not pid_alive(pid):
            return
        kids = children_of(pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if not wait_until(lambda: not pid_alive(pid), timeout):
            for p in [pid] + kids + children_of(pid):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            wait_until(lambda: not pid_alive(pid), 5.0)
        for k in kids:
            wait_until(lambda: not pid_alive(k), 5.0)
        wait_until(lambda: not port_open(self.port, timeout=0.2), 5.0)

    def _generations(self):
        return self.error_log().count("resuming normal operations")

    def _signal_and_wait(self, action, timeout):
        before = self._generations()
        rc, output = self._apache("-k", action)
        if rc != 0:
            raise HarnessError("apache2 -k %s failed (%d):\n%s\n%s"
                               % (action, rc, output, tail(self.error_log_path)))
        if not wait_until(lambda: self._generations() > before and port_open(self.port),
                          timeout):
            raise HarnessError("httpd did not come back after %s:\n%s"
                               % (action, tail(self.error_log_path)))
        return self

    def graceful(self, timeout=30.0):
        """`apache2 -k graceful`; returns once the new generation is up."""
        return self._signal_and_wait("graceful", timeout)

    def restart(self, timeout=30.0):
        """`apache2 -k restart`; returns once the new generation is up."""
        return self._signal_and_wait("restart", timeout)

    # --- inspection -------------------------------------------------------------------------

    def url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def client(self):
        return Client(self.url())

    def error_log(self):
        return read_text(self.error_log_path)

    def access_log(self):
        return read_text(self.access_log_path)

    def log_files(self):
        return [self.error_log_path, self.access_log_path, self.conf_path]

    # --- its database -------------------------------------------------------------------------

    def sql(self, statement, params=()):
        """Rows of `statement` on this server's database, with sqlite3 '?' placeholders. On
        PostgreSQL the parameters are quoted into the text and the rows come back from psql as
        tuples of strings; on SQLite as its values, and the files SQLite made as root are given
        back to the children (give_back_db_files)."""
        if isinstance(self.db, Postgres):
            for p in params:
                statement = statement.replace("?", "'%s'" % str(p).replace("'", "''"), 1)
            out = self.db.psql(statement)
            return [tuple(line.split("|")) for line in out.splitlines() if line]
        con = sqlite3.connect(self.db_path, timeout=30)
        try:
            rows = con.execute(statement, params).fetchall()
            con.commit()
            return rows
        finally:
            con.close()
            self.give_back_db_files()

    def give_back_db_files(self):
        """Files SQLite made for a test running as root (-wal, -shm) must stay writable by the
        children."""
        if os.geteuid() != 0:
            return
        pw = pwd.getpwnam(RUN_USER)
        for name in os.listdir(self.data_dir):
            os.chown(os.path.join(self.data_dir, name), pw.pw_uid, pw.pw_gid)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------------------------
# HTTP client


class Response:
    """status (int), reason, headers (http.client.HTTPMessage: .get, .get_all), raw (bytes),
    body (raw decoded as UTF-8, bad bytes replaced), location (the Location header or None)."""

    def __init__(self, status, reason, headers, raw):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.raw = raw
        self.body = raw.decode("utf-8", errors="replace")
        self.location = headers.get("Location")

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def __repr__(self):
        return "<Response %d %s, %d bytes>" % (self.status, self.reason, len(self.raw))


class Client:
    """A browser-like client for one origin: keeps cookies, never follows redirects.

    cookies: name -> value; cookie_attrs: name -> the full Set-Cookie header last seen.
    Paths are relative to base_url ("/account/login"); absolute http URLs to the same origin work.
    source_address: (host, 0) to connect from, e.g. ("127.0.0.2", 0): another visitor for every
    per-client limit (any 127.x address reaches a server listening on 127.0.0.1).
    """

    def __init__(self, base_url, timeout=30.0):
        parts = urllib.parse.urlsplit(base_url)
        self.host = parts.hostname
        self.port = parts.port or 80
        self.base_path = parts.path.rstrip("/")
        self.timeout = timeout
        self.cookies = {}
        self.cookie_attrs = {}
        self.default_headers = {}
        self.source_address = None

    def _target(self, path):
        if path.startswith("http://") or path.startswith("https://"):
            parts = urllib.parse.urlsplit(path)
            return parts.path + ("?" + parts.query if parts.query else "")
        return self.base_path + path

    def _store_cookies(self, headers):
        for line in headers.get_all("Set-Cookie") or []:
            first, _, attrs = line.partition(";")
            name, _, value = first.strip().partition("=")
            attrs_l = attrs.lower()
            m = re.search(r"max-age\s*=\s*(-?\d+)", attrs_l)
            expired = m is not None and int(m.group(1)) <= 0
            m = re.search(r"expires\s*=\s*([^;]+)", attrs, re.I)
            if m and not expired:
                try:
                    when = email.utils.parsedate_to_datetime(m.group(1).strip())
                    expired = when.timestamp() < time.time()
                except (TypeError, ValueError):
                    pass
            if expired:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
            self.cookie_attrs[name] = line

    def cookie_header(self):
        return "; ".join("%s=%s" % kv for kv in self.cookies.items())

    def request(self, method, path, body=None, headers=None, cookies=True):
        """One request; body is bytes or None. Returns a Response."""
        hdrs = dict(self.default_headers)
        hdrs.update(headers or {})
        if cookies and self.cookies and not any(k.lower() == "cookie" for k in hdrs):
            hdrs["Cookie"] = self.cookie_header()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                          source_address=self.source_address)
        try:
            conn.request(method, self._target(path), body=body, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            result = Response(resp.status, resp.reason, resp.headers, raw)
        finally:
            conn.close()
        if cookies:
            self._store_cookies(result.headers)
        return result

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def head(self, path, headers=None):
        return self.request("HEAD", path, headers=headers)

    def post(self, path, fields=None, headers=None):
        """POSTs fields: a dict or list of pairs (form-urlencoded), or bytes as they are."""
        hdrs = dict(headers or {})
        if isinstance(fields, (bytes, bytearray)):
            body = bytes(fields)
        else:
            body = urllib.parse.urlencode(fields or {}, doseq=True).encode("utf-8")
        if not any(k.lower() == "content-type" for k in hdrs):
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request("POST", path, body=body, headers=hdrs)

    def submit(self, form_path, fields, action=None, headers=None):
        """GETs form_path, adds its csrf_token to fields, POSTs to action (default form_path)."""
        page = self.get(form_path, headers=headers)
        token = csrf_token(page.body)
        if token is None:
            raise AssertionError("no csrf_token in %s (status %d):\n%s"
                                 % (form_path, page.status, page.body[:2000]))
        data = dict(fields)
        data["csrf_token"] = token
        return self.post(action or form_path.split("?")[0], data, headers=headers)


_CSRF_RE = re.compile(r"<input\b[^>]*\bname\s*=\s*[\"']csrf_token[\"'][^>]*>", re.I)
_VALUE_RE = re.compile(r"\bvalue\s*=\s*(\"([^\"]*)\"|'([^']*)')", re.I)


def csrf_token(page_html):
    """The value of the first <input name="csrf_token" value="..."> in page_html, or None."""
    m = _CSRF_RE.search(page_html or "")
    if not m:
        return None
    v = _VALUE_RE.search(m.group(0))
    if not v:
        return None
    return html.unescape(v.group(2) if v.group(2) is not None else v.group(3))


# --------------------------------------------------------------------------------------------
# unittest base


class IntegrationTest(unittest.TestCase):
    """Base for integration tests: a work dir per test and services stopped after it.

    A failed (or errored) test keeps self.work_dir and prints where its logs are plus the tail
    of each Apache error log; a passed one deletes the work dir (unless NM_KEEP_WORK=1).
    """

    def setUp(self):
        super().setUp()
        self.work_dir = make_work_dir(self.id().split(".", 1)[-1])
        self._services = []

    @property
    def prefix(self):
        prefix = os.environ.get("NM_PREFIX")
        if not prefix:
            raise HarnessError("NM_PREFIX is not set: run through ctest, or set it to an install "
                               "prefix (cmake --install BUILD --prefix P)")
        if not os.path.exists(os.path.join(prefix, "lib/apache2/modules/mod_natomedia.so")):
            raise HarnessError("NM_PREFIX=%s has no lib/apache2/modules/mod_natomedia.so" % prefix)
        return prefix

    @property
    def source_dir(self):
        return os.environ.get("NM_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))

    def _own(self, service):
        self._services.append(service)
        self.addCleanup(service.stop)
        return service

    def start_memcached(self, port=None, **kw):
        return self._own(Memcached(port, self.work_dir, **kw)).start()

    def start_smtp(self, port=None):
        return self._own(SmtpSink(port, self.work_dir)).start()

    def start_postgres(self, port=None):
        return self._own(Postgres(port, self.work_dir)).start()

    def start_database(self):
        """What make_apache(db=) takes for the test's db_kind: "sqlite", or for "pgsql" a
        PostgreSQL server started for this test. Sets self.pg (that server, or None)."""
        pgsql = getattr(self, "db_kind", "sqlite") == "pgsql"
        self.pg = self.start_postgres() if pgsql else None
        return self.pg or "sqlite"

    def make_apache(self, name="apache", start=True, prefix=None, **kw):
        """An Apache in work_dir/NAME (prefix defaults to NM_PREFIX), started unless start=False.

        Every keyword goes to Apache(); without memcached= a fresh Memcached is started.
        """
        if kw.get("load_natomedia", True):
            prefix = prefix or self.prefix
            if "memcached" not in kw:
                kw["memcached"] = self.start_memcached()
        apache = self._own(Apache(prefix, os.path.join(self.work_dir, name), **kw))
        if start:
            apache.start()
        return apache

    def run(self, result=None):
        if result is None:
            return super().run(result)
        before = (len(result.failures), len(result.errors), len(result.unexpectedSuccesses))
        out = super().run(result)
        after = (len(result.failures), len(result.errors), len(result.unexpectedSuccesses))
        self._finish(failed=after != before)
        return out

    def _finish(self, failed):
        work_dir = getattr(self, "work_dir", None)
        if not work_dir or not os.path.isdir(work_dir):
            return
        if not failed and os.environ.get("NM_KEEP_WORK") != "1":
            shutil.rmtree(work_dir, ignore_errors=True)
            return
        err = sys.stderr
        err.write("\n--- %s: kept work dir %s\n" % (self.id(), work_dir))
        for service in self._services:
            for path in service.log_files():
                if os.path.exists(path):
                    err.write("    log: %s\n" % path)
        for service in self._services:
            if isinstance(service, Apache):
                err.write("--- tail of %s:\n%s\n" % (service.error_log_path,
                                                      tail(service.error_log_path)))
        err.flush()


def on_each_database(flows, name, sqlite_needs_prefix=False):
    """The two concrete test classes of tests written once in the mixin `flows`: NAMESqliteTest
    (db_kind "sqlite") and NAMEPostgresTest (db_kind "pgsql"), each flows + IntegrationTest, in
    flows' module. Without NM_PREFIX the PostgreSQL one is skipped (the SQLite one too when
    sqlite_needs_prefix). A test module binds both: `ASqliteTest, APostgresTest = ...`."""
    needs_prefix = unittest.skipUnless(os.environ.get("NM_PREFIX"), "NM_PREFIX is not set")

    def case(suffix, db_kind):
        cls = type(name + suffix, (flows, IntegrationTest),
                   {"db_kind": db_kind, "__module__": flows.__module__})
        cls.__qualname__ = cls.__name__
        return cls
    sqlite = case("SqliteTest", "sqlite")
    return (needs_prefix(sqlite) if sqlite_needs_prefix else sqlite,
            needs_prefix(case("PostgresTest", "pgsql")))
