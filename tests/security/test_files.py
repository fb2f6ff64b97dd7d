"""Files served as data (CONTRACT section 12): a thumbnail is served only as image/jpeg,
image/png, image/webp or image/gif, told from the file's first bytes and never from the feed's
contenttype or the file's name; every file answer (thumbnail, download 200/206/HEAD, signed
download) carries `X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox`.

The attacks: an SVG with a script, an HTML page, an HTML page after whitespace and an HTML page
carrying a JPEG signature further in, each behind a .png or .jpg name with an image contenttype
in the feed. A GIF/HTML polyglot (a real GIF signature, HTML after it) is served as image/gif
with nosniff and a sandbox, so no browser renders it as a page.
"""

import html
import os
import re
import struct
import unittest
import zlib

import harness
import proof_support as ps
import test_news as feeds
from harness import IntegrationTest

VIDEO = "clip"

SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b'<script>alert(document.cookie)</script></svg>\n')
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
SPACED_HTML = b" \n\t\r\n  <html><body><script>alert(1)</script></body></html>\n"
# HTML that also holds a JPEG start of image further in: the signature must come first.
LATE_JPEG = b"<html><script>alert(1)</script>\xff\xd8\xff\xe0\x00\x10JFIF\x00</html>"
POLYGLOT_GIF = b"GIF89a/*\x01\x00\x01\x00*/<html><script>alert(1)</script></html>"


def png_bytes():
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 \
    + b"\xff\xd9"
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
       b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
WEBP_BODY = b"VP8L\x0a\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
WEBP = b"RIFF" + struct.pack("<I", 4 + len(WEBP_BODY)) + b"WEBP" + WEBP_BODY

# item id -> (file name in the feed, bytes, contenttype the feed claims, type to serve or None)
THUMBNAILS = {
    "svg-png": ("evil.png", SVG, "image/png", None),
    "svg-declared": ("evil.svg.jpg", SVG, "image/svg+xml", None),
    "html-jpg": ("page.jpg", HTML, "image/jpeg", None),
    "spaced-html": ("spaced.png", SPACED_HTML, "image/png", None),
    "late-jpeg": ("late.jpg", LATE_JPEG, "image/jpeg", None),
    "html-declared": ("page2.jpg", HTML, "text/html", None),
    "empty": ("empty.png", b"", "image/png", None),
    "truncated": ("cut.png", b"\x89PNG\r\n", "image/png", None),
    "real-jpeg": ("real.jpg", JPEG, "image/jpeg", "image/jpeg"),
    "real-png": ("real.png", png_bytes(), "image/png", "image/png"),
    # The feed's word and the name are wrong: the bytes decide.
    "png-as-jpg": ("other.jpg", png_bytes(), "image/jpeg", "image/png"),
    "real-webp": ("real.webp", WEBP, "image/webp", "image/webp"),
    "webp-as-svg": ("webp.svg", WEBP, "image/svg+xml", "image/webp"),
    "real-gif": ("real.gif", GIF, "image/gif", "image/gif"),
    "polyglot-gif": ("poly.png", POLYGLOT_GIF, "text/html", "image/gif"),
}


def assert_data_headers(test, r, what):
    test.assertEqual(r.header("X-Content-Type-Options"), "nosniff", what)
    test.assertEqual(r.header("Content-Security-Policy"), "sandbox", what)
    test.assertEqual(len(r.headers.get_all("Content-Security-Policy")), 1, what)
    test.assertEqual(len(r.headers.get_all("X-Content-Type-Options")), 1, what)


class FilesServedAsData(IntegrationTest):
    def setUp(self):
        super().setUp()
        media, renditions = ps.make_media(self.work_dir, 64 << 10)
        thumbs = harness.make_dir(os.path.join(media, "thumbs"))
        items = [feeds.news_item(VIDEO, feeds.BASE_TIME + 3600, "A video", video=True,
                                 icon=VIDEO + "/thumb.jpg", renditions=renditions)]
        for n, (ident, (name, data, claimed, _)) in enumerate(sorted(THUMBNAILS.items())):
            path = os.path.join(thumbs, name)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o644)
            item = feeds.news_item(ident, feeds.BASE_TIME - 60 * n, "Thumbnail " + ident,
                                   video=True, icon="thumbs/" + name, renditions=renditions)
            items.append(item.replace('contenttype="image/jpeg"/>',
                                      'contenttype="%s"/>' % claimed, 1))
        self.files = {r["id"]: os.path.join(media, r["href"]) for r in renditions}
        feed = os.path.join(self.work_dir, "feed.xml")
        feeds.write_feed(feed, feeds.feed_xml(items))
        self.apache = self.make_apache(feed=feed, media_root=media)

    def test_thumbnails_are_served_only_as_the_image_their_bytes_are(self):
        c = self.apache.client()
        for ident, (name, data, claimed, served) in sorted(THUMBNAILS.items()):
            what = "%s (%s, feed says %s)" % (ident, name, claimed)
            r = c.get("/videos/%s/thumbnail" % ident)
            if served is None:
                self.assertEqual(r.status, 404, what)
                self.assertNotIn(b"<script", r.raw, what)
                self.assertNotIn(b"alert(", r.raw, what)
                self.assertIn("text/html", r.header("Content-Type"), what)  # the portal's 404
                continue
            self.assertEqual(r.status, 200, what)
            self.assertEqual(r.header("Content-Type"), served, what)
            self.assertEqual(r.raw, data, what)
            assert_data_headers(self, r, what)
            head = c.head("/videos/%s/thumbnail" % ident)
            self.assertEqual((head.status, head.header("Content-Type")), (200, served), what)
            assert_data_headers(self, head, what + " HEAD")
        log = self.apache.error_log()
        for ident, (name, _, _, served) in THUMBNAILS.items():
            if served is None:
                self.assertRegex(log, r"thumbnail of item %s refused: its file thumbs/%s is not "
                                      r"a JPEG, PNG, WebP or GIF image" % (ident, re.escape(name)))
        # The second answer of each comes from the per-process cache of sniffed types: the same.
        self.assertEqual(c.get("/videos/svg-png/thumbnail").status, 404)
        self.assertEqual(c.get("/videos/real-png/thumbnail").header("Content-Type"), "image/png")

    def test_a_thumbnail_replaced_by_an_svg_stops_being_served(self):
        c = self.apache.client()
        path = os.path.join(self.apache.media_root, "thumbs", "real.png")
        self.assertEqual(c.get("/videos/real-png/thumbnail").status, 200)
        tmp = path + ".new"
        with open(tmp, "wb") as f:
            f.write(SVG)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # same name, new file: the feed does not change
        r = c.get("/videos/real-png/thumbnail")
        self.assertEqual(r.status, 404, r.raw[:200])
        self.assertNotIn(b"<svg", r.raw)

    def test_downloads_carry_nosniff_and_a_sandbox(self):
        c = ps.verified_client(self.apache, "files@example.org")
        url = "/download/%s/small" % VIDEO
        with open(self.files["small"], "rb") as f:
            data = f.read()
        full = c.get(url)
        self.assertEqual(full.status, 200)
        self.assertEqual(full.raw, data)
        assert_data_headers(self, full, "download 200")
        part = c.get(url, headers={"Range": "bytes=10-99"})
        self.assertEqual((part.status, part.raw), (206, data[10:100]))
        assert_data_headers(self, part, "download 206")
        multi = c.get(url, headers={"Range": "bytes=0-1,10-11"})
        self.assertEqual(multi.status, 206)
        assert_data_headers(self, multi, "download 206 multipart")
        head = c.head(url)
        self.assertEqual((head.status, head.raw), (200, b""))
        assert_data_headers(self, head, "download HEAD")

        page = c.get("/videos/" + VIDEO)
        m = re.search(r'id="link-small" readonly value="([^"]+)"', page.body)
        self.assertTrue(m, page.body[-2000:])
        link = html.unescape(m.group(1))
        anon = harness.Client(self.apache.url())
        signed = anon.get(link)
        self.assertEqual((signed.status, signed.raw), (200, data))
        assert_data_headers(self, signed, "signed download 200")
        signed_part = anon.get(link, headers={"Range": "bytes=-5"})
        self.assertEqual((signed_part.status, signed_part.raw), (206, data[-5:]))
        assert_data_headers(self, signed_part, "signed download 206")
        signed_head = anon.head(link)
        self.assertEqual(signed_head.status, 200)
        assert_data_headers(self, signed_head, "signed download HEAD")


if __name__ == "__main__":
    unittest.main()
