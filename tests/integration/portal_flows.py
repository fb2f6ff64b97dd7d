"""What a visitor and an operator do, shared by the operations tests (test_admin, test_cluster):
register and verify through the real mail, sign in, a one-video feed with its media, the
metrics page parsed, natomedia-admin run as httpd's user.
"""

import hashlib
import html
import os
import re
import subprocess
import time
import urllib.parse

import harness

PASSWORD = "Operat0r-checks!it"
VIDEO_ID = "ops-clip"
RENDITION = "hd720"


def verify_path(email):
    return "/account/verify?email=" + urllib.parse.quote(email)


def register(test, client, email, password=PASSWORD):
    """POST /account/register through the form; asserts the 303 to the code page."""
    r = client.submit("/account/register", {"email": email, "password": password,
                                            "password_confirm": password})
    test.assertEqual(r.status, 303, r.body[:1000])
    test.assertIn("/account/verify?email=", r.location or "")
    return r


def code_from(folder, email, after=0, timeout=30):
    """The code in the (after+1)-th message to email that carries one (SmtpSink or MailDir)."""
    msg = folder.wait_for_to(email, timeout=timeout, after=after)
    code = harness.verification_code(msg)
    if code is None:
        raise AssertionError("no code in the mail to %s: %s" % (email, msg["Subject"]))
    return code


def submit_code(test, client, email, code):
    r = client.submit(verify_path(email), {"email": email, "code": code},
                      action="/account/verify")
    test.assertEqual(r.status, 200, r.body[:1000])
    test.assertIn("You have successfully created your account", r.body)
    return r


def sign_in(client, email, password=PASSWORD):
    """The POST /account/login answer (303 when it worked, 401 when refused)."""
    return client.submit("/account/login", {"email": email, "password": password,
                                            "return_to": "/account/"})


def signed_in_browser(test, client, email, password=PASSWORD):
    """client, signed in as email through POST /account/login (asserts the 303)."""
    r = sign_in(client, email, password)
    test.assertEqual(r.status, 303, r.body[:500])
    return client


def signed_in(client):
    """True when GET /account/ shows the account page (not a 303 to the login form)."""
    return client.get("/account/").status == 200


def subscribe(client):
    token = harness.csrf_token(client.get("/account/").body)
    return client.post("/newsletter/subscribe", {"csrf_token": token, "source": "account"})


# --- the feed -------------------------------------------------------------------------------


def make_media(work_dir, size=300000):
    """A media root holding one rendition file; returns (root, relative href, bytes)."""
    root = harness.make_dir(os.path.join(work_dir, "media"))
    clip = harness.make_dir(os.path.join(root, VIDEO_ID))
    data = os.urandom(size)
    path = os.path.join(clip, RENDITION + ".mp4")
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    return root, VIDEO_ID + "/" + RENDITION + ".mp4", data


def feed_text(href=None, data=b"", headline="Operations test video", drop_headline=False):
    """A section 8 feed with one video item (with a rendition when href is given)."""
    content = ""
    if href:
        content = ('<remoteContent rendition="rnd:%s" href="%s" contenttype="video/mp4" size="%d" '
                   'width="1280" height="720" duration="4" durationunit="timeunit:seconds" '
                   'videoframerate="25" nm:sha256="%s" nm:filename="clip.mp4"/>'
                   % (RENDITION, html.escape(href), len(data), hashlib.sha256(data).hexdigest()))
    headline_el = "" if drop_headline else \
        '<headline xml:lang="en">%s</headline>' % html.escape(headline)
    return """<?xml version="1.0" encoding="UTF-8"?>
<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/" xmlns:nm="urn:natomedia:feed:1">
  <header><sent>2023-07-06T18:00:00Z</sent></header>
  <itemSet>
    <newsItem guid="urn:natomedia:%s" version="1" standard="NewsML-G2" standardversion="2.36"
              xml:lang="en">
      <itemMeta>
        <itemClass qcode="ninat:video"/>
        <provider literal="NATO"/>
        <versionCreated>2023-07-06T18:00:00Z</versionCreated>
        <firstCreated>2023-07-06T17:30:00Z</firstCreated>
        <pubStatus qcode="stat:usable"/>
      </itemMeta>
      <contentMeta>
        <contentCreated>2023-07-06T12:00:00Z</contentCreated>
        %s
      </contentMeta>
      <contentSet>%s</contentSet>
    </newsItem>
  </itemSet>
</newsMessage>
""" % (VIDEO_ID, headline_el, content)


def write_file(path, text):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path + ".tmp", 0o644)
    os.replace(path + ".tmp", path)
    return path


def download_path():
    return "/download/%s/%s" % (VIDEO_ID, RENDITION)


def download_link(test, client):
    """The signed download link of the video's rendition, as its page shows it to client."""
    page = client.get("/videos/" + VIDEO_ID)
    test.assertEqual(page.status, 200)
    m = re.search(r'id="link-%s" readonly value="([^"]+)"' % RENDITION, page.body)
    test.assertTrue(m, page.body[-2000:])
    return html.unescape(m.group(1))


# --- the metrics page -----------------------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eE]+|NaN)\s*$")


def metrics(client):
    """{sample name (with labels): float} from /natomedia-status (Prometheus text format)."""
    page = client.get("/natomedia-status")
    if page.status != 200:
        raise AssertionError("/natomedia-status answered %d" % page.status)
    out = {}
    for line in page.body.splitlines():
        m = _SAMPLE.match(line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


# --- natomedia-admin ------------------------------------------------------------------------


def admin(prefix, conf_path, *args, as_run_user=True, cwd=None, timeout=120):
    """Runs PREFIX/bin/natomedia-admin --config CONF ARGS (as httpd's user when root, so an
    SQLite file stays writable by httpd). Returns the CompletedProcess (text)."""
    cmd = [os.path.join(prefix, "bin/natomedia-admin")]
    if conf_path:
        cmd += ["--config", conf_path]
    cmd += list(args)
    if as_run_user and os.geteuid() == 0:
        cmd = ["runuser", "-u", harness.RUN_USER, "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=cwd or "/")


def admin_ok(test, *args):
    """natomedia-admin ARGS on test.apache's configuration with the installed share folder;
    asserts it exits 0 and returns its standard output."""
    res = admin(test.prefix, test.apache.conf_path, "--share-dir",
                os.path.join(test.prefix, "share/natomedia"), *args)
    test.assertEqual(res.returncode, 0, "natomedia-admin %s: %s%s"
                     % (" ".join(args), res.stdout, res.stderr))
    return res.stdout


def wait_for(pred, timeout=10.0, interval=0.1):
    return harness.wait_until(pred, timeout, interval)


def now():
    return int(time.time())
