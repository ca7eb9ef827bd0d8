// Cleaning of metadata text: HTML tags stripped, character entities decoded, whitespace collapsed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace twotower {

/// Appends code point `cp` to `out` as UTF-8; NUL, surrogates and values past U+10FFFF become
/// U+FFFD so the output is always valid UTF-8.
void append_utf8(std::string& out, uint32_t cp);

/// Decodes HTML character references: named (&amp; &lt; &gt; &quot; &apos; &nbsp; and the
/// common Latin-1 and typographic names) and numeric (&#39; &#x27;), written as UTF-8.
/// Unknown or malformed references are kept as they are.
std::string decode_entities(std::string_view text);

/// Removes HTML tags (`<...>`), comments and the content of <script> and <style> elements;
/// <br>, <p>, <div>, <li> and similar block tags become a space so words do not run together.
/// A tag left open at the end of the text is removed with everything after it.
std::string strip_html(std::string_view text);

/// strip_html, then decode_entities, then whitespace runs (including newlines and no-break
/// spaces) collapsed to one space and the ends trimmed. Entities are decoded after tags are
/// removed, so an escaped "&lt;b&gt;" stays visible text rather than becoming a tag.
std::string clean_text(std::string_view text);

}  // namespace twotower
