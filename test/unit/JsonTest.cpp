//===- JsonTest.cpp - the runtime's JSON reader ---------------------------===//

#include "runtime/Json.h"

#include <gtest/gtest.h>

using namespace tfm::rt;

TEST(Json, ParsesNestedValues) {
  auto v = parseJson(R"({"a": [1, -2.5e3, true, null], "b": {"c": "x\"y\u00e9"}})");
  ASSERT_TRUE(v) << v.error().message();
  const Json *a = jsonMember(*v, "a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->size(), 4u);
  EXPECT_EQ(jsonInt((*a)[0]), 1);
  EXPECT_EQ(jsonInt((*a)[1]), std::nullopt);
  EXPECT_DOUBLE_EQ((*a)[1].get<double>(), -2500.0);
  EXPECT_TRUE((*a)[2].get<bool>());
  EXPECT_TRUE((*a)[3].is_null());
  EXPECT_EQ(jsonMember(*v, "b")->at("c").get<std::string>(), "x\"y\xc3\xa9");
  EXPECT_EQ(jsonMember(*v, "missing"), nullptr);
  EXPECT_EQ(jsonMember((*a)[0], "a"), nullptr);
}

TEST(Json, IntegersStayExactAndInRange) {
  auto v = parseJson("[9007199254740993, -9223372036854775808, "
                     "9223372036854775807, 9223372036854775808, 1.0, 1e3]");
  ASSERT_TRUE(v);
  EXPECT_EQ(jsonInt((*v)[0]), 9007199254740993LL);
  EXPECT_EQ(jsonInt((*v)[1]), INT64_MIN);
  EXPECT_EQ(jsonInt((*v)[2]), INT64_MAX);
  EXPECT_EQ(jsonInt((*v)[3]), std::nullopt); // beyond int64_t
  EXPECT_EQ(jsonInt((*v)[4]), std::nullopt); // written as a fraction
  EXPECT_EQ(jsonInt((*v)[5]), std::nullopt);
}

TEST(Json, ErrorsSayWhereAndWhat) {
  auto missingColon = parseJson(R"({"a" 1})");
  ASSERT_FALSE(missingColon);
  EXPECT_NE(missingColon.error().message().find("line 1, column 6"),
            std::string::npos)
      << missingColon.error().message();
  EXPECT_NE(missingColon.error().message().find("expected ':'"),
            std::string::npos);
  EXPECT_EQ(missingColon.error().message().find("[json.exception"),
            std::string::npos);

  auto trailing = parseJson("[1, 2] x");
  ASSERT_FALSE(trailing);
  EXPECT_NE(trailing.error().message().find("expected end of input"),
            std::string::npos)
      << trailing.error().message();

  auto unterminated = parseJson(R"({"a": "abc)");
  ASSERT_FALSE(unterminated);
  EXPECT_NE(unterminated.error().message().find("missing closing quote"),
            std::string::npos)
      << unterminated.error().message();

  auto notUtf8 = parseJson("[\"\xff\"]");
  ASSERT_FALSE(notUtf8);
  EXPECT_NE(notUtf8.error().message().find("UTF-8"), std::string::npos)
      << notUtf8.error().message();
}

TEST(Json, RejectsDeepNesting) {
  std::string deep(1000, '[');
  auto v = parseJson(deep);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message(), "JSON nested deeper than 256 levels");

  std::string limit = std::string(kMaxJsonDepth, '[') +
                      std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parseJson(limit)) << "256 levels are allowed";
  std::string objects;
  for (int i = 0; i <= kMaxJsonDepth; ++i)
    objects += "{\"a\":";
  EXPECT_FALSE(parseJson(objects + "1" + std::string(kMaxJsonDepth + 1, '}')));
}

TEST(Json, RejectsDuplicateKeys) {
  auto v = parseJson(R"({"w": {"a": 1, "b": 2}, "w": {"a": 3}})");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message(), "key \"w\" appears twice in one object");
  auto inner = parseJson(R"({"x": {"a": 1, "a": 2}})");
  ASSERT_FALSE(inner);
  EXPECT_EQ(inner.error().message(), "key \"a\" appears twice in one object");
  // The same key in sibling objects is fine.
  EXPECT_TRUE(parseJson(R"([{"a": 1}, {"a": 2}, {"b": {"a": 3}}])"));
  // A long key is cut short in the message.
  std::string longKey(10000, 'k');
  auto big = parseJson("{\"" + longKey + "\":1,\"" + longKey + "\":2}");
  ASSERT_FALSE(big);
  EXPECT_LT(big.error().message().size(), 200u);
}

TEST(Json, QuotesStrings) {
  EXPECT_EQ(jsonQuote("a\"b\\c\n"), R"("a\"b\\c\n")");
  EXPECT_EQ(jsonQuote(std::string("\x01", 1)), R"("\u0001")");
  EXPECT_EQ(jsonQuote("\xff"), "\"\xef\xbf\xbd\""); // U+FFFD
}
