"""News and videos from the content feed (issue 6): pages, pagination, languages, escaping,
live reload, Atom/RSS, ETags. Real httpd with the media_gateway plugin.

The feed builder here (news_item, video_item, feed_xml, write_feed) is reused by
test_downloads.py.
"""

import hashlib
import html
import os
import pwd
import re
import shutil
import stat
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

import harness
from harness import IntegrationTest

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"

# --------------------------------------------------------------------------------------------
# Feed builder (CONTRACT section 8)


def _x(s):
    return html.escape(s, quote=True)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def news_item(ident, first_created, headline, headline_fr=None, body=None, status="usable",
              summary=None, icon=None, video=False, renditions=(), shotlist=None, located=None,
              descriptive=""):
    """One newsItem element as text. `body` is raw XHTML put inside <body>; `located` and
    `descriptive` are raw XML (the <located> element; subjects, keywords, creditlines...)."""
    meta = ['<icon rendition="rnd:thumbnail" href="%s" contenttype="image/jpeg"/>' % _x(icon)
            if icon else "",
            "<contentCreated>%s</contentCreated>" % iso(first_created),
            located or "",
            '<headline xml:lang="en">%s</headline>' % _x(headline), descriptive]
    if headline_fr:
        meta.append('<headline xml:lang="fr">%s</headline>' % _x(headline_fr))
    if summary:
        meta.append('<description role="descrole:summary" xml:lang="en">%s</description>'
                    % _x(summary))
    if shotlist:
        meta.append('<description role="descrole:shotlist" xml:lang="en">%s</description>'
                    % _x(shotlist))
    content = []
    if body is not None:
        content.append('<inlineXML contenttype="application/xhtml+xml" xml:lang="en">'
                       '<html xmlns="http://www.w3.org/1999/xhtml"><body>%s</body></html>'
                       '</inlineXML>' % body)
    for r in renditions:
        content.append(
            '<remoteContent rendition="rnd:%s" href="%s" contenttype="video/mp4" size="%d" '
            'width="%d" height="%d" duration="%d" durationunit="timeunit:seconds" '
            'videoframerate="25" nm:sha256="%s" nm:filename="%s"/>'
            % (r["id"], _x(r["href"]), r["size"], r.get("width", 1280), r.get("height", 720),
               r.get("duration", 4), r["sha256"], _x(r.get("filename", r["id"] + ".mp4"))))
    return """
    <newsItem guid="urn:natomedia:%s" version="1" standard="NewsML-G2" standardversion="2.36"
              xml:lang="en">
      <itemMeta>
        <itemClass qcode="ninat:%s"/>
        <provider literal="NATO"/>
        <versionCreated>%s</versionCreated>
        <firstCreated>%s</firstCreated>
        <pubStatus qcode="stat:%s"/>
      </itemMeta>
      <contentMeta>%s</contentMeta>
      <contentSet>%s</contentSet>
    </newsItem>""" % (ident, "video" if video else "text", iso(first_created),
                      iso(first_created), status, "".join(meta), "".join(content))


def feed_xml(items):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/" '
            'xmlns:nm="urn:natomedia:feed:1">\n'
            '  <header><sent>2023-07-06T18:00:00Z</sent></header>\n'
            '  <itemSet>%s\n  </itemSet>\n</newsMessage>\n' % "".join(items))


def write_feed(path, text):
    """Replaces the feed file atomically (a new inode), readable by httpd's children."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def rendition_of(path, rid, href, **kw):
    with open(path, "rb") as f:
        data = f.read()
    r = {"id": rid, "href": href, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    r.update(kw)
    return r


def make_sample_media(source_dir, label):
    """scripts/make-sample-media.sh into a fresh dir readable by www-data; returns the dir."""
    media = harness.make_work_dir(label)
    subprocess.run(["sh", os.path.join(source_dir, "scripts/make-sample-media.sh"), media],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["chmod", "-R", "a+rX", media], check=True)
    return media


BASE_TIME = 1688664600  # Thu, 06 Jul 2023 17:30:00 GMT


def listed_ids(page_html):
    return re.findall(r'<li class="item" data-id="([^"]+)"', page_html)


# --------------------------------------------------------------------------------------------


class NewsTest(IntegrationTest):
    def start(self, items, **kw):
        self.feed_path = os.path.join(self.work_dir, "feed.xml")
        write_feed(self.feed_path, feed_xml(items))
        kw.setdefault("plugins", ["media_gateway"])
        self.apache = self.make_apache(feed=self.feed_path, **kw)
        return self.apache.client()

    def start_with_a_video(self, n_text):
        """The feeds' portal: n_text text items "Headline & I" (one a minute from BASE_TIME,
        with a summary) and, newest, the video "vid" with a thumbnail and one hd720 rendition.
        Returns (client, public URL)."""
        items = [news_item("n%02d" % i, BASE_TIME + i * 60, "Headline & %d" % i,
                           summary="Summary %d" % i) for i in range(n_text)]
        items.append(news_item("vid", BASE_TIME + 5000, "A video", video=True,
                               icon="vid/thumb.jpg",
                               renditions=[{"id": "hd720", "href": "vid/hd720.mp4",
                                            "size": 10, "sha256": "0" * 64}]))
        return self.start(items), self.apache.public_url

    def test_pages_of_twenty_newest_first_without_withheld(self):
        items = [news_item("n%02d" % i, BASE_TIME + i * 60, "Headline %d" % i) for i in range(25)]
        items.append(news_item("held", BASE_TIME + 9999, "Withheld", status="withheld"))
        items.append(news_item("gone", BASE_TIME + 9998, "Canceled", status="canceled"))
        c = self.start(items)
        first = c.get("/news/")
        self.assertEqual(first.status, 200, first.body[:500])
        self.assertEqual(listed_ids(first.body), ["n%02d" % i for i in range(24, 4, -1)])
        self.assertIn('href="/news/?page=2"', first.body)
        second = c.get("/news/?page=2")
        self.assertEqual(second.status, 200)
        self.assertEqual(listed_ids(second.body), ["n04", "n03", "n02", "n01", "n00"])
        self.assertIn('href="/news/"', second.body)
        self.assertNotIn("?page=3", second.body)
        for body in (first.body, second.body):
            self.assertNotIn("Withheld", body)
            self.assertNotIn("Canceled", body)
        self.assertEqual(c.get("/news/?page=3").status, 404)
        self.assertEqual(c.get("/news/?page=x").status, 400)
        self.assertEqual(c.get("/news/held").status, 404)
        self.assertEqual(c.get("/news/n07").status, 200)
        self.assertEqual(c.get("/news/nope").status, 404)
        self.assertEqual(c.get("/videos/").status, 200)
        self.assertEqual(listed_ids(c.get("/videos/").body), [])
        self.assertEqual(c.get("/news").status, 301)

    def test_search_words_and_topics_with_paging(self):
        """CONTRACT 13: /news/?q=WORDS&topic=QCODE: every word (case- and accent-insensitive,
        in the page's language with English fallback), paged as the list is."""
        items = [news_item("m%02d" % i, BASE_TIME + i * 60, "Maritime patrol %d" % i,
                           body="<p>Ships in the Baltic</p>" if i % 2 else None)
                 for i in range(25)]
        items.append(news_item("fr", BASE_TIME + 9000, "Élargissement talks",
                               headline_fr="Négociations sur l’ÉLARGISSEMENT"))
        c = self.start(items)
        first = c.get("/news/?q=MARITIME")
        self.assertEqual(first.status, 200, first.body[:500])
        self.assertEqual(listed_ids(first.body), ["m%02d" % i for i in range(24, 4, -1)])
        self.assertIn("Results: 25", first.body)
        self.assertIn("“<mark>MARITIME</mark>”", first.body)
        self.assertIn('value="MARITIME"', first.body)  # the search box shows what was searched
        self.assertIn('href="/news/?q=MARITIME&amp;page=2"', first.body)
        second = c.get("/news/?q=MARITIME&page=2")
        self.assertEqual(listed_ids(second.body), ["m04", "m03", "m02", "m01", "m00"])
        self.assertEqual(c.get("/news/?q=MARITIME&page=3").status, 404)
        # Every word: the body counts, and "baltic" is only in odd items' bodies.
        both = listed_ids(c.get("/news/?q=patrol+baltic").body)
        self.assertEqual(both, ["m%02d" % i for i in range(23, 0, -2)])
        # Accents and case folded; French page reads French text, English where there is none.
        self.assertEqual(listed_ids(c.get("/news/?q=elargissement").body), ["fr"])
        fr_client = self.apache.client()
        self.assertEqual(listed_ids(fr_client.get("/news/?q=negociations&lang=fr").body), ["fr"])
        self.assertEqual(listed_ids(fr_client.get("/news/?q=patrol+24&lang=fr").body), ["m24"])
        self.assertEqual(listed_ids(c.get("/news/?q=negociations").body), [])
        none = c.get("/news/?q=zeppelin").body
        self.assertIn("No news matches this search.", none)
        self.assertEqual(c.get("/news/?q=" + "x" * 600).status, 400)

    def test_item_details_are_links_in_the_page_language(self):
        """Rough edge 11: location, subjects, keywords and credit in a styled block; subjects
        link to their topic's search, keywords to the search of the word (base-relative); the
        labels and the feed's names in the page's language, English (marked lang="en") where
        the feed has none in it."""
        full = news_item(
            "full", BASE_TIME, "Full details", headline_fr="Tous les détails",
            located='<located><name xml:lang="en">Brussels</name>'
                    '<name xml:lang="fr">Bruxelles</name></located>',
            descriptive='<subject qcode="nmtopic:defence"><name xml:lang="en">Defence</name>'
                        '<name xml:lang="fr">Défense</name></subject>'
                        '<keyword xml:lang="en">Sweden</keyword>'
                        '<keyword xml:lang="fr">Suède</keyword>'
                        '<creditline xml:lang="en">NATO</creditline>'
                        '<creditline xml:lang="fr">OTAN</creditline>')
        english = news_item(
            "english", BASE_TIME - 60, "English details only",
            located="<located><name>Mons</name></located>",
            descriptive='<subject qcode="nmtopic:ops"><name>Operations</name></subject>'
                        '<keyword>Exercise</keyword><creditline>SHAPE</creditline>')
        c = self.start([full, english], base_path="/portal")

        def meta_block(client, path, *expected):
            """The page's details block, which must hold each of `expected`."""
            page = client.get(path).body
            block = re.search(r'<dl class="meta">(.*?)</dl>', page, re.S).group(1)
            for e in expected:
                self.assertIn(e, block)
            return page, block

        en, _ = meta_block(
            c, "/portal/news/full",
            '<dt>Location</dt><dd lang="en">Brussels</dd>',
            '<dt>Subjects</dt>',
            '<li lang="en"><a href="/portal/news/?topic=nmtopic%3Adefence">Defence</a>',
            '<dt>Keywords</dt>',
            '<li><a href="/portal/news/?q=Sweden">Sweden</a></li>',
            '<dt>Credit</dt><dd lang="en">NATO</dd>')
        self.assertIn("dl.meta{display:grid", en)  # the block is styled

        fr_client = self.apache.client()
        _, block = meta_block(
            fr_client, "/portal/news/full?lang=fr",
            '<dt>Lieu</dt><dd lang="fr">Bruxelles</dd>',
            '<dt>Thèmes</dt>',
            '<li lang="fr"><a href="/portal/news/?topic=nmtopic%3Adefence">Défense</a>',
            '<dt>Mots-clés</dt>',
            '<ul class="tags" lang="fr"><li><a href="/portal/news/?q=Su%C3%A8de">'
            'Suède</a></li>',
            '<dt>Crédit</dt><dd lang="fr">OTAN</dd>')
        for english_word in ("Brussels", "Defence", "Sweden", "NATO", "Location", "Subjects",
                             "Keywords", "Credit"):
            self.assertNotIn(english_word, block)

        # No French in the feed for this one: the feed's English, marked, under French labels.
        meta_block(
            fr_client, "/portal/news/english?lang=fr",
            '<dt>Lieu</dt><dd lang="en">Mons</dd>', '<dt>Thèmes</dt>',
            '<li lang="en"><a href="/portal/news/?topic=nmtopic%3Aops">Operations</a>',
            '<dt>Mots-clés</dt><dd><ul class="tags" lang="en"><li>'
            '<a href="/portal/news/?q=Exercise">Exercise</a>',
            '<dt>Crédit</dt><dd lang="en">SHAPE</dd>')

        # The links lead to searches that find the item.
        self.assertEqual(listed_ids(c.get("/portal/news/?q=Sweden").body), ["full"])
        self.assertEqual(listed_ids(fr_client.get("/portal/news/?q=Su%C3%A8de&lang=fr").body),
                         ["full"])
        self.assertEqual(listed_ids(c.get("/portal/news/?topic=nmtopic%3Aops").body), ["english"])
        self.assertEqual(listed_ids(c.get("/portal/news/?q=Exercise").body), ["english"])

    def test_search_index_is_built_when_the_feed_loads(self):
        """The news search's index is made with each feed version as it loads (in httpd's parent
        at start-up, then by the feed watcher), before any search asks for it; a search reads
        the index of the very version it serves."""
        ready = re.compile(r"feed \S+ version (\S+) \((\d+) items\) made ready: "
                           r"media_gateway\.search \d+\.\d ms")
        c = self.start([news_item("a1", BASE_TIME, "Alpha harbour")])
        # Before any search: the start-up load built it.
        log = self.apache.error_log()
        self.assertIn("1", [n for _, n in ready.findall(log)], log[-3000:])
        self.assertEqual(listed_ids(c.get("/news/?q=alpha").body), ["a1"])

        write_feed(self.feed_path, feed_xml([news_item("b1", BASE_TIME + 60, "Bravo harbour"),
                                             news_item("a1", BASE_TIME, "Alpha harbour")]))
        self.assertTrue(harness.wait_until(
            lambda: listed_ids(c.get("/news/").body) == ["b1", "a1"], 10.0, 0.1))
        log = self.apache.error_log()
        self.assertIn("2", [n for _, n in ready.findall(log)], log[-3000:])
        self.assertEqual(listed_ids(c.get("/news/?q=bravo").body), ["b1"])
        self.assertEqual(listed_ids(c.get("/news/?q=harbour").body), ["b1", "a1"])
        self.assertNotIn("failed", "\n".join(l for l in log.splitlines() if "media_gateway.search" in l))

    def test_languages_dates_and_fallback(self):
        items = [news_item("both", BASE_TIME, "English headline", headline_fr="Titre français",
                           body="<p>Body</p>"),
                 news_item("only-en", BASE_TIME - 86400, "Only in English")]
        c = self.start(items)
        en = c.get("/news/")
        self.assertIn("English headline", en.body)
        self.assertIn("Thursday 6 July 2023", en.body)
        self.assertNotIn("Thursday (", en.body)
        self.assertNotIn('class="fallback"', en.body)
        fr = c.get("/news/?lang=fr")
        self.assertEqual(fr.status, 200)
        self.assertIn("Titre français", fr.body)
        self.assertIn("jeudi 6 juillet 2023", fr.body)
        self.assertIn("mercredi 5 juillet 2023", fr.body)
        # The English-only item is marked as such, once.
        self.assertEqual(fr.body.count("Affiché en anglais"), 1)
        self.assertIn('lang="en"><a href="/news/only-en">Only in English', fr.body)
        page = c.get("/news/only-en")  # the lang cookie keeps French
        self.assertIn("Affiché en anglais", page.body)
        self.assertIn('lang="en">Only in English</h1>', page.body)

    def test_markup_in_headline_and_body_is_not_live(self):
        evil = ('<p>ok</p><script>alert(1)</script><p onclick="alert(2)">x</p>'
                '<a href="javascript:alert(3)">js</a><img src="x" onerror="alert(4)"/>'
                '<a href="https://example.org/">fine</a>')
        items = [news_item("evil", BASE_TIME, '<script>alert("h")</script><img src=x onerror=y>',
                           body=evil, summary='<b onmouseover="z">s</b>')]
        c = self.start(items)
        for path in ("/news/", "/news/evil"):
            r = c.get(path)
            self.assertEqual(r.status, 200, path)
            low = r.body.lower()
            self.assertNotIn("<script", low, path)
            self.assertNotIn("<img src=x", low, path)
            self.assertIsNone(re.search(r"<[^>]*\son\w+\s*=", low), path)
            self.assertNotIn('href="javascript:', low, path)
            self.assertIn("&lt;script&gt;", r.body, path)
        item = c.get("/news/evil").body
        self.assertIn('<a href="https://example.org/">fine</a>', item)
        for path in ("/news/feed.atom", "/news/feed.rss"):
            ET.fromstring(c.get(path).raw)  # still well-formed XML

    def test_new_feed_is_served_without_restart_and_broken_one_is_refused(self):
        c = self.start([news_item("first", BASE_TIME, "First item")])
        etag = c.get("/news/").header("ETag")
        self.assertEqual(c.get("/news/second").status, 404)
        write_feed(self.feed_path, feed_xml([news_item("first", BASE_TIME, "First item"),
                                             news_item("second", BASE_TIME + 60, "Second")]))
        started = time.monotonic()
        ok = harness.wait_until(lambda: c.get("/news/second").status == 200, 5.0, 0.1)
        self.assertTrue(ok, "the new item was not served within 5 s")
        self.assertLess(time.monotonic() - started, 3.0)
        page = c.get("/news/")
        self.assertEqual(listed_ids(page.body), ["second", "first"])
        self.assertNotEqual(page.header("ETag"), etag)
        # A broken file: the last good feed keeps serving; the reason is in the error log.
        write_feed(self.feed_path, "<newsMessage><itemSet><newsItem>")
        logged = harness.wait_until(
            lambda: c.get("/news/") and re.search(r"feed.*(line|error)",
                                                  self.apache.error_log(), re.I), 5.0, 0.2)
        self.assertTrue(logged, "no reason in the error log:\n" + self.apache.error_log()[-2000:])
        self.assertEqual(listed_ids(c.get("/news/").body), ["second", "first"])
        self.assertEqual(c.get("/news/second").status, 200)

    def test_children_share_each_loaded_version(self):
        """The first child to load a new version leaves it in DefaultRuntimeDir/natomedia-feed
        (a 0700 directory of the children's user) for the others; every child serves it."""
        conf = "\n".join(["ServerLimit 2", "StartServers 2", "ThreadsPerChild 8",
                          "MaxRequestWorkers 16", "MinSpareThreads 8", "MaxSpareThreads 16",
                          # flock keeps its lock file (fcntl unlinks it): seen below
                          "Mutex flock:%s/locks natomedia-feed" % self.work_dir])
        harness.make_dir(os.path.join(self.work_dir, "locks"), owner=harness.RUN_USER)
        c = self.start([news_item("first", BASE_TIME, "First item")], extra_conf=conf)
        share = os.path.join(self.apache.run_dir, "natomedia-feed")
        st = os.lstat(share)
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, harness.RUN_USER)
        write_feed(self.feed_path, feed_xml([news_item("first", BASE_TIME, "First item"),
                                             news_item("second", BASE_TIME + 60, "Second")]))
        # Fresh connections, so that both children see the change.
        ok = harness.wait_until(
            lambda: all(harness.Client(self.apache.url()).get("/news/second").status == 200
                        for _ in range(20)), 10.0, 0.2)
        self.assertTrue(ok, "the new item was not served by every child")
        snapshots = [n for n in os.listdir(share) if n.endswith(".snapshot")]
        self.assertEqual(len(snapshots), 1, os.listdir(share))
        st = os.lstat(os.path.join(share, snapshots[0]))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, harness.RUN_USER)
        # The children took turns on httpd's natomedia-feed mutex, as the Mutex directive
        # configured it, not on a lock file of their own.
        self.assertEqual([n for n in os.listdir(share) if n.endswith(".lock")], [])
        locks = os.listdir(os.path.join(self.work_dir, "locks"))
        self.assertTrue(any(n.startswith("natomedia-feed") for n in locks), locks)
        self.assertNotIn("natomedia-feed", self.apache.error_log())

    def test_atom_and_rss_list_the_same_items_as_the_news_page(self):
        c, public = self.start_with_a_video(23)
        page_ids = listed_ids(c.get("/news/").body)
        self.assertEqual(len(page_ids), 20)

        atom = c.get("/news/feed.atom")
        self.assertEqual(atom.status, 200)
        self.assertTrue(atom.header("Content-Type").startswith("application/atom+xml"))
        root = ET.fromstring(atom.raw)
        self.assertEqual(root.tag, ATOM + "feed")
        links = [e.find(ATOM + "link").get("href") for e in root.findall(ATOM + "entry")]
        self.assertEqual(links[0], public + "/videos/vid")  # a video's one page
        self.assertTrue(all(h.startswith(public + "/news/") for h in links[1:]), links[:3])
        ids = [e.findtext(ATOM + "id") for e in root.findall(ATOM + "entry")]
        self.assertEqual(ids, links)  # absolute URLs from NatoMediaPublicURL
        self.assertEqual(root.findtext(ATOM + "id"), public + "/news/feed.atom")
        self.assertEqual([h.rsplit("/", 1)[1] for h in links], page_ids)
        self.assertEqual(root.find(ATOM + "entry/" + ATOM + "title").text, "A video")
        self.assertIsNotNone(root.find(ATOM + "updated"))

        rss = c.get("/news/feed.rss")
        self.assertEqual(rss.status, 200)
        channel = ET.fromstring(rss.raw).find("channel")
        rss_items = channel.findall("item")
        self.assertEqual([i.findtext("link").rsplit("/", 1)[1] for i in rss_items], page_ids)
        self.assertEqual(rss_items[1].findtext("title"), "Headline & 22")
        video = rss_items[0]
        content = video.find(MEDIA + "content")
        self.assertIsNotNone(content)
        self.assertEqual([i.findtext("guid") for i in rss_items],
                         [i.findtext("link") for i in rss_items])
        self.assertEqual(content.get("url"), public + "/videos/vid/preview")
        self.assertEqual((content.get("type"), content.get("fileSize"), content.get("width"),
                          content.get("height"), content.get("duration")),
                         ("video/mp4", "10", "1280", "720", "4"))
        self.assertEqual(content.find(MEDIA + "thumbnail").get("url"),
                         public + "/videos/vid/thumbnail")
        self.assertIsNone(rss_items[1].find(MEDIA + "content"))

        # The videos feed; pages link their feeds, the French page the French one.
        vrss = ET.fromstring(c.get("/videos/feed.rss").raw).find("channel").findall("item")
        self.assertEqual([i.findtext("link") for i in vrss], [public + "/videos/vid"])
        vatom = ET.fromstring(c.get("/videos/feed.atom").raw)
        self.assertEqual(len(vatom.findall(ATOM + "entry")), 1)
        self.assertIn('<link rel="alternate" type="application/atom+xml" href="/videos/feed.atom"',
                      c.get("/videos/").body)
        fr_page = self.apache.client().get("/news/?lang=fr").body
        self.assertIn('<link rel="alternate" type="application/rss+xml" '
                      'href="/news/feed.rss?lang=fr"', fr_page)
        fr_feed = ET.fromstring(c.get("/news/feed.rss?lang=fr").raw).find("channel")
        self.assertEqual(fr_feed.findtext("language"), "fr")
        # A video's news address leads to its one page.
        moved = c.get("/news/vid")
        self.assertEqual((moved.status, moved.location), (301, "/videos/vid"))

    def test_feeds_keep_the_w3c_validator_rules(self):
        """CONTRACT 13: both feeds "validate as the W3C feed validator checks them": the rules
        it enforces (and the warnings it gives), checked on the news and videos feeds."""
        import email.utils
        c, public = self.start_with_a_video(3)
        rfc3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"
        for path in ("/news/feed.atom", "/videos/feed.atom"):
            r = c.get(path)
            self.assertTrue(r.header("Content-Type").startswith("application/atom+xml"), path)
            self.assertRegex(r.raw[:40].decode(), r'^<\?xml version="1.0" encoding="(?i:utf-8)"\?>')
            feed = ET.fromstring(r.raw)
            for tag in ("id", "title", "updated"):
                self.assertTrue(feed.findtext(ATOM + tag), (path, tag))
            self.assertRegex(feed.findtext(ATOM + "updated"), rfc3339)
            self.assertTrue(feed.findtext(ATOM + "author/" + ATOM + "name"), path)
            selfs = [l for l in feed.findall(ATOM + "link") if l.get("rel") == "self"]
            self.assertEqual([l.get("href") for l in selfs], [public + path])  # its location
            entries = feed.findall(ATOM + "entry")
            self.assertTrue(entries, path)
            ids = [e.findtext(ATOM + "id") for e in entries]
            self.assertEqual(len(ids), len(set(ids)), path)  # unique entry ids
            for e in entries:
                self.assertTrue(e.findtext(ATOM + "title"), path)
                self.assertRegex(e.findtext(ATOM + "updated"), rfc3339)
                self.assertTrue(e.findtext(ATOM + "id").startswith(public + "/"), path)
                alternates = [l for l in e.findall(ATOM + "link") if l.get("rel") == "alternate"]
                self.assertEqual(len(alternates), 1, path)  # at most one per type and language
        for path in ("/news/feed.rss", "/videos/feed.rss"):
            r = c.get(path)
            self.assertTrue(r.header("Content-Type").startswith("application/rss+xml"), path)
            rss = ET.fromstring(r.raw)
            self.assertEqual(rss.get("version"), "2.0")
            channel = rss.find("channel")
            for tag in ("title", "link", "description"):
                self.assertTrue(channel.findtext(tag), (path, tag))
            self.assertIsNotNone(email.utils.parsedate_to_datetime(
                channel.findtext("lastBuildDate")))  # RFC 822 dates
            selfs = channel.findall(ATOM + "link")
            self.assertEqual([(l.get("rel"), l.get("href")) for l in selfs],
                             [("self", public + path)])
            guids = []
            for item in channel.findall("item"):
                self.assertTrue(item.findtext("title") or item.findtext("description"), path)
                self.assertIsNotNone(email.utils.parsedate_to_datetime(item.findtext("pubDate")))
                guid = item.find("guid")
                self.assertTrue(guid.text.startswith(public + "/"), guid.text)
                self.assertNotEqual(guid.get("isPermaLink"), "false")
                guids.append(guid.text)
                content = item.find(MEDIA + "content")
                if content is not None:
                    self.assertTrue(content.get("url").startswith(public + "/"))
                    for attr in ("type", "fileSize", "width", "height", "duration"):
                        self.assertRegex(content.get(attr) or "", r"\S", attr)
            self.assertTrue(guids, path)
            self.assertEqual(len(guids), len(set(guids)), path)

    def test_etags_give_304(self):
        c = self.start([news_item("a", BASE_TIME, "A")])
        for path in ("/news/", "/news/a", "/news/feed.atom", "/news/feed.rss", "/videos/"):
            r = c.get(path)
            etag = r.header("ETag")
            self.assertTrue(etag, path)
            self.assertTrue(r.header("Last-Modified"), path)
            again = c.get(path, headers={"If-None-Match": etag})
            self.assertEqual(again.status, 304, path)
            self.assertEqual(again.raw, b"", path)
            self.assertEqual(again.header("ETag"), etag, path)
            self.assertEqual(c.get(path, headers={"If-None-Match": '"other"'}).status, 200)
        en = c.get("/news/").header("ETag")
        fr = c.get("/news/?lang=fr").header("ETag")
        self.assertNotEqual(en, fr)
        head = c.head("/news/")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.raw, b"")


class VideoPagesTest(IntegrationTest):
    @classmethod
    def setUpClass(cls):
        cls.media = make_sample_media(
            os.environ.get("NM_SOURCE_DIR") or os.path.dirname(os.path.dirname(harness.HERE)),
            "news-media")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.media, ignore_errors=True)

    def test_sample_feed_video_pages_and_thumbnail(self):
        feed = os.path.join(self.media, "sample-feed.xml")
        apache = self.make_apache(feed=feed, media_root=self.media, plugins=["media_gateway"])
        c = apache.client()
        vid = "2023-07-06-sweden-membership-video"
        text_id = "2023-07-06-sweden-membership"
        news = c.get("/news/")
        self.assertEqual(listed_ids(news.body), [vid, text_id])
        videos = c.get("/videos/")
        self.assertEqual(listed_ids(videos.body), [vid])
        page = c.get("/videos/" + vid)
        self.assertEqual(page.status, 200)
        size = os.path.getsize(os.path.join(self.media, "sweden-membership/hd720.mp4"))
        for expected in ("hd720", "sd360", "1280 × 720", "640 × 360", "0:04", "MP4",
                         'data-bytes="%d"' % size, 'href="/download/%s/hd720"' % vid,
                         "Exterior, NATO Headquarters", "Thursday 6 July 2023"):
            self.assertIn(expected, page.body)
        self.assertNotIn("expires=", page.body)  # no signed links for anonymous visitors
        self.assertIn('<a href="/videos/">Back to the videos</a>', page.body)
        self.assertNotIn("Back to the news", page.body)
        self.assertIn('<ul class="shotlist">', page.body)
        self.assertIn(".shotlist{list-style:none", page.body)  # its lines carry their numbers
        fr = c.get("/videos/%s?lang=fr" % vid)
        self.assertIn("Extérieur, siège de l’OTAN", fr.body)
        self.assertIn("jeudi 6 juillet 2023", fr.body)
        self.assertIn("Télécharger", fr.body)
        self.assertEqual(c.get("/videos/" + text_id).status, 404)
        self.assertIn("Sweden’s membership", c.get("/news/%s?lang=en" % text_id).body)
        thumb = c.get("/videos/%s/thumbnail" % vid)
        self.assertEqual(thumb.status, 200)
        self.assertEqual(thumb.header("Content-Type"), "image/jpeg")
        self.assertIn("public", thumb.header("Cache-Control"))
        with open(os.path.join(self.media, "sweden-membership/thumb.jpg"), "rb") as f:
            self.assertEqual(thumb.raw, f.read())
        self.assertEqual(c.get("/videos/%s/thumbnail" % text_id).status, 404)
        self.assertEqual(c.get("/videos/nope/thumbnail").status, 404)

    def test_topics_link_to_their_search(self):
        feed = os.path.join(self.media, "sample-feed.xml")
        apache = self.make_apache(feed=feed, media_root=self.media, plugins=["media_gateway"])
        c = apache.client()
        text_id = "2023-07-06-sweden-membership"
        page = c.get("/news/" + text_id).body
        link = '<a href="/news/?topic=nmtopic%3Aenlargement">Enlargement</a>'
        self.assertIn(link, page)
        found = c.get("/news/?topic=nmtopic%3Aenlargement").body
        self.assertEqual(listed_ids(found), ["2023-07-06-sweden-membership-video", text_id])
        self.assertIn("<mark>Enlargement</mark>", found)
        self.assertEqual(listed_ids(c.get("/news/?topic=nmtopic%3Aelse").body), [])
        fr = apache.client().get("/news/?topic=nmtopic%3Aenlargement&q=suede&lang=fr").body
        self.assertIn("<mark>Élargissement</mark>", fr)
        self.assertIn(text_id, listed_ids(fr))

    def test_player_preview_and_rendition_details(self):
        """CONTRACT 13: the video page plays /videos/ID/preview (the smallest video rendition,
        or NatoMediaPreviewRendition's), public, by httpd's file path; each rendition says its
        codecs, bitrate, frame rate and what it is for."""
        feed = os.path.join(self.media, "sample-feed.xml")
        vid = "2023-07-06-sweden-membership-video"
        text_id = "2023-07-06-sweden-membership"
        with open(os.path.join(self.media, "sweden-membership/sd360.mp4"), "rb") as f:
            sd = f.read()
        with open(os.path.join(self.media, "sweden-membership/hd720.mp4"), "rb") as f:
            hd = f.read()
        apache = self.make_apache(feed=feed, media_root=self.media, plugins=["media_gateway"])
        c = apache.client()
        page = c.get("/videos/" + vid).body
        player = re.search(r"<video [^>]*>.*?</video>", page, re.S)
        self.assertTrue(player, page)
        self.assertIn('controls preload="metadata" poster="/videos/%s/thumbnail"' % vid,
                      player.group(0))
        self.assertIn('<source src="/videos/%s/preview" type="video/mp4">' % vid, player.group(0))
        for expected in ("H.264 / AAC", "%d kbit/s" % round(len(sd) * 8 / 4 / 1000), "25 fps",
                         "For broadcast", "For the web"):
            self.assertIn(expected, page)
        fr = c.get("/videos/%s?lang=fr" % vid).body
        for expected in ("25 i/s", "Pour la diffusion", "Pour le web"):
            self.assertIn(expected, fr)
        self.assertIn('/thumbnail"', c.get("/videos/").body)  # the listing shows thumbnails

        url = "/videos/%s/preview" % vid
        r = c.get(url)  # anonymous: the preview is public
        self.assertEqual(r.status, 200)
        self.assertEqual(r.raw, sd)  # the smallest video rendition
        self.assertEqual(r.header("Content-Type"), "video/mp4")
        self.assertEqual(r.header("Content-Disposition"), "inline")
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        etag = r.header("ETag")
        self.assertRegex(etag, r'^"[0-9a-f]{32}"$')  # strong
        part = c.get(url, headers={"Range": "bytes=10-29"})
        self.assertEqual(part.status, 206)
        self.assertEqual(part.raw, sd[10:30])
        self.assertEqual(part.header("Content-Range"), "bytes 10-29/%d" % len(sd))
        self.assertEqual(c.get(url, headers={"If-None-Match": etag}).status, 304)
        head = c.head(url)
        self.assertEqual(head.status, 200)
        self.assertEqual(int(head.header("Content-Length")), len(sd))
        self.assertEqual(c.get("/videos/%s/preview" % text_id).status, 404)  # no video
        self.assertEqual(c.get("/videos/nope/preview").status, 404)
        self.assertEqual(c.post(url, {}).status, 405)

        named = self.make_apache(name="named", feed=feed, media_root=self.media,
                                 plugins=["media_gateway"],
                                 directives="NatoMediaPreviewRendition rnd:hd720\n")
        self.assertEqual(named.client().get(url).raw, hd)


if __name__ == "__main__":
    unittest.main()
