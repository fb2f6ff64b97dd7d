// Builders of NewsML-G2 feed documents for the feed tests: a valid item by default, with the
// parts a test wants to break given as fields.
#pragma once

#include <string>
#include <vector>

namespace natomedia {
namespace testing {

struct ItemSpec {
  std::string id = "item";
  std::string item_class = "ninat:text";
  std::string pub_status = "stat:usable";
  std::string first_created = "2023-07-06T17:30:00Z";
  std::string headlines = "<headline xml:lang=\"en\">Headline</headline>";
  std::string extra_meta;  // more contentMeta children, after the headlines
  std::string content;     // contentSet children ("" leaves the contentSet out)
};

inline std::string item_xml(const ItemSpec& s) {
  std::string x = "    <newsItem guid=\"urn:natomedia:" + s.id +
                  "\" version=\"1\" standard=\"NewsML-G2\"\n"
                  "              standardversion=\"2.36\" xml:lang=\"en\">\n"
                  "      <itemMeta>\n"
                  "        <itemClass qcode=\"" +
                  s.item_class +
                  "\"/>\n"
                  "        <provider literal=\"NATO\"/>\n"
                  "        <versionCreated>2023-07-06T18:00:00Z</versionCreated>\n"
                  "        <firstCreated>" +
                  s.first_created +
                  "</firstCreated>\n"
                  "        <pubStatus qcode=\"" +
                  s.pub_status +
                  "\"/>\n"
                  "      </itemMeta>\n"
                  "      <contentMeta>\n"
                  "        " +
                  s.headlines + "\n" + s.extra_meta + "      </contentMeta>\n";
  if (!s.content.empty()) x += "      <contentSet>\n" + s.content + "      </contentSet>\n";
  return x + "    </newsItem>\n";
}

inline std::string feed_xml(const std::vector<ItemSpec>& items, const std::string& prolog = "") {
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + prolog +
                  "<newsMessage xmlns=\"http://iptc.org/std/nar/2006-10-01/\" "
                  "xmlns:nm=\"urn:natomedia:feed:1\">\n"
                  "  <header><sent>2023-07-06T18:00:00Z</sent></header>\n"
                  "  <itemSet>\n";
  for (const ItemSpec& item : items) x += item_xml(item);
  return x + "  </itemSet>\n</newsMessage>\n";
}

inline std::string rendition_xml(const std::string& qcode, const std::string& href) {
  return "        <remoteContent rendition=\"" + qcode + "\" href=\"" + href +
         "\" contenttype=\"video/mp4\" size=\"1000\" width=\"1280\" height=\"720\"\n"
         "                       duration=\"4\" videoframerate=\"25\"/>\n";
}

}  // namespace testing
}  // namespace natomedia
