// Reduces a feed body's XHTML to the allow-list of CONTRACT section 7: p, br, em, strong,
// a[href=http(s)], ul, ol, li, blockquote, h2, h3, with no attribute but a's href. Every other
// element is removed but its text is kept (escaped); script, style and head are dropped with
// their content; comments and processing instructions are dropped. The output is safe HTML to
// place inside an element. Pure functions, thread-safe once init_xml_library() has run.
#pragma once

#include <libxml/tree.h>

#include <string>
#include <string_view>

namespace natomedia {
namespace core {

// `body_or_html` is an XHTML element (html, body, or any fragment root); elements outside the
// XHTML namespace count as not allowed. Null gives "".
std::string sanitize_xhtml(const xmlNode* body_or_html);

// Parses `xhtml_fragment` as the content of an XHTML body (no DTD, no entities, no network)
// and sanitizes it. What is not well-formed XML comes back wholly escaped as text.
std::string sanitize_xhtml_string(std::string_view xhtml_fragment);

}  // namespace core
}  // namespace natomedia
