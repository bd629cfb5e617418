//===- JsonTest.cpp - the runtime's JSON reader ---------------------------===//

#include "runtime/Json.h"

#include <gtest/gtest.h>

using namespace tfm::rt;

TEST(Json, ParsesNestedValues) {
  auto v = parseJson(R"({"a": [1, -2.5e3, true, null], "b": {"c": "x\"y\u00e9"}})");
  ASSERT_TRUE(v) << v.error().message();
  const JsonValue *a = v->get("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->array.size(), 4u);
  EXPECT_TRUE(a->array[0].isInteger);
  EXPECT_EQ(a->array[0].integer, 1);
  EXPECT_FALSE(a->array[1].isInteger);
  EXPECT_DOUBLE_EQ(a->array[1].number, -2500.0);
  EXPECT_TRUE(a->array[2].boolean);
  EXPECT_EQ(a->array[3].kind, JsonValue::Kind::Null);
  EXPECT_EQ(v->get("b")->get("c")->string, "x\"y\xc3\xa9");
  EXPECT_EQ(v->get("missing"), nullptr);
}

TEST(Json, LargeIntegersStayExact) {
  auto v = parseJson("[9007199254740993]");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->array[0].integer, 9007199254740993LL);
}

TEST(Json, ErrorsGiveByteOffsets) {
  auto missingColon = parseJson(R"({"a" 1})");
  ASSERT_FALSE(missingColon);
  EXPECT_EQ(missingColon.error().message(), "expected ':' at byte 5");

  auto trailing = parseJson("[1, 2] x");
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().message(),
            "unexpected text after the JSON value at byte 7");

  auto unterminated = parseJson(R"({"a": "abc)");
  ASSERT_FALSE(unterminated);
  EXPECT_NE(unterminated.error().message().find("unterminated string"),
            std::string::npos);
}

TEST(Json, RejectsDeepNesting) {
  std::string deep(1000, '[');
  auto v = parseJson(deep);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message().find("nested too deeply"), std::string::npos);
}

TEST(Json, QuotesStrings) {
  EXPECT_EQ(jsonQuote("a\"b\\c\n"), R"("a\"b\\c\n")");
}
