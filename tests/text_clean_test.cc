#include "twotower/data/text_clean.h"

#include <gtest/gtest.h>

namespace twotower {
namespace {

TEST(TextClean, DecodesNamedAndNumericEntities) {
  EXPECT_EQ(decode_entities("Phantasy Star Online, Episode I &amp; II"), "Phantasy Star Online, Episode I & II");
  EXPECT_EQ(decode_entities("&lt;b&gt; &quot;x&quot; &#39;y&#x27;"), "<b> \"x\" 'y'");
  EXPECT_EQ(decode_entities("caf&eacute; &euro;5"), "caf\xC3\xA9 \xE2\x82\xAC" "5");
}

// Unknown or unterminated references stay as written.
TEST(TextClean, KeepsUnknownEntities) {
  EXPECT_EQ(decode_entities("AT&T &bogus; & more &#xZZ;"), "AT&T &bogus; & more &#xZZ;");
}

TEST(TextClean, StripsTagsCommentsAndScripts) {
  EXPECT_EQ(strip_html("<span class=\"a\">Time</span>"), "Time");
  EXPECT_EQ(strip_html("a<!-- hidden -->b"), "ab");
  EXPECT_EQ(strip_html("x<script>var a = '<b>';</script>y"), "xy");
  EXPECT_EQ(strip_html("1 < 2 and 3 > 2"), "1 < 2 and 3 > 2");
  EXPECT_EQ(strip_html("Time <span class=\"a-size-medium a-color-secondary\""), "Time ");
}

// Block tags separate words; whitespace and no-break spaces collapse; ends are trimmed.
TEST(TextClean, CleanTextCollapsesWhitespace) {
  EXPECT_EQ(clean_text("  <p>Hello</p><p>world</p>\n\t&nbsp;!  "), "Hello world !");
  EXPECT_EQ(clean_text("line<br/>break"), "line break");
  EXPECT_EQ(clean_text(""), "");
}

// Entities are decoded after tags are removed, so escaped markup stays text.
TEST(TextClean, EscapedMarkupStaysText) { EXPECT_EQ(clean_text("&lt;b&gt;bold&lt;/b&gt;"), "<b>bold</b>"); }

}  // namespace
}  // namespace twotower
