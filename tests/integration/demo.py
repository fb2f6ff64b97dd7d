#!/usr/bin/python3
"""Runs the portal for a person to try: memcached + httpd with the installed module.

    /usr/bin/python3 tests/integration/demo.py --prefix build/demo-prefix --dir demo \
        [--port 8080] [--memcached-port 11311] [--feed F --media-root D] [--plugins a,b]

Everything lives under --dir: conf/httpd.conf, logs/, run/ (PID files), data/accounts.db
(SQLite), mail/ (the file:// mail transport; messages land in mail/new/). A demo left running
is stopped first, by the PIDs in run/. Then the script stays in the foreground and prints, for
each new mail, its To, Subject and verification code. Ctrl-C stops memcached and httpd.
Uses harness.py, so the demo's httpd.conf is the tests' httpd.conf.
"""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def stop_previous(run_dir):
    """Stops a demo started earlier from the same dir (memcached.pid, httpd.pid)."""
    for name in ("httpd.pid", "memcached.pid"):
        path = os.path.join(run_dir, name)
        try:
            with open(path) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if harness.pid_alive(pid):
            print("demo: stopping the previous %s (pid %d)" % (name[:-4], pid))
            kids = harness.children_of(pid)
            harness.kill_pid(pid, timeout=15)
            for k in kids:
                harness.wait_until(lambda: not harness.pid_alive(k), 5)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def start_memcached(port, log_dir, run_dir):
    if harness.port_open(port):
        new = harness.free_port()
        print("demo: port %d is taken; memcached uses %d instead" % (port, new))
        port = new
    mc = harness.Memcached(port=port, work_dir=log_dir).start()
    with open(os.path.join(run_dir, "memcached.pid"), "w") as f:
        f.write("%d\n" % mc.pid)
    return mc


def describe(msg):
    to = msg.get("To", "?")
    subject = msg.get("Subject", "?")
    code = harness.verification_code(msg)
    line = "To: %s  Subject: %s" % (to, subject)
    if code:
        line += "\n      code: %s" % code
    return line


def watch_mail(apache):
    """Prints each new message under mail/new until Ctrl-C or until httpd dies."""
    seen = set(m.path for m in apache.mail.messages())
    if seen:
        print("demo: %d older message(s) in %s/new" % (len(seen), apache.mail_dir))
    print("demo: waiting for mail (Ctrl-C stops the demo)\n", flush=True)
    while True:
        for msg in apache.mail.messages():
            if msg.path not in seen:
                seen.add(msg.path)
                print("[%s] %s\n      file: %s" % (time.strftime("%H:%M:%S"), describe(msg),
                                                   msg.path), flush=True)
        if not apache.running():
            print("demo: httpd stopped; tail of %s:\n%s"
                  % (apache.error_log_path, harness.tail(apache.error_log_path)))
            return 1
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True, help="install prefix of mod_natomedia")
    parser.add_argument("--dir", required=True, help="where the demo keeps its state")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--memcached-port", type=int, default=11311)
    parser.add_argument("--feed", help="NatoMediaFeed (XML content feed)")
    parser.add_argument("--media-root", help="NatoMediaMediaRoot")
    parser.add_argument("--plugins", default=",".join(harness.ALL_PLUGINS),
                        help="comma-separated NatoMediaPlugin names (default: all four)")
    args = parser.parse_args()

    demo_dir = os.path.abspath(args.dir)
    harness.make_dir(demo_dir)
    run_dir = harness.make_dir(os.path.join(demo_dir, "run"))
    log_dir = harness.make_dir(os.path.join(demo_dir, "logs"))
    stop_previous(run_dir)
    if harness.port_open(args.port):
        sys.exit("demo: 127.0.0.1:%d is in use by another program; pass --port" % args.port)

    mc = start_memcached(args.memcached_port, log_dir, run_dir)
    apache = harness.Apache(args.prefix, demo_dir, port=args.port, memcached=mc,
                            feed=args.feed, media_root=args.media_root,
                            plugins=[p for p in args.plugins.split(",") if p])

    def stop_all(*_):
        print("\ndemo: stopping httpd and memcached")
        apache.stop()
        mc.stop()
        for name in ("memcached.pid",):
            try:
                os.unlink(os.path.join(run_dir, name))
            except FileNotFoundError:
                pass

    # Explicit, because a shell starting us in the background would leave SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(0))
    try:
        rc, out = apache.configtest()
        if rc != 0:
            print("demo: configtest failed:\n%s" % out)
            return 1
        apache.start()
        base = apache.url()
        print("\nNATO Multimedia portal demo is up")
        print("  register:   %s/account/register" % base)
        print("  sign in:    %s/account/login" % base)
        print("  news:       %s/news/" % base)
        print("  videos:     %s/videos/" % base)
        print("  metrics:    %s/natomedia-status" % base)
        print("  config:     %s" % apache.conf_path)
        print("  logs:       %s, %s" % (apache.error_log_path, mc.log_path))
        print("  database:   %s" % apache.db_path)
        print("  mail:       %s/new" % apache.mail_dir)
        return watch_mail(apache)
    except harness.HarnessError as e:
        print("demo: %s" % e)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
