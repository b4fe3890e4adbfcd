// Error: a client-facing error carrying the SQLSTATE PostgreSQL will report, plus detail and hint.
#include "orchestrator/core/error.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using namespace orchestrator::core;

TEST(Error, SqlstateIsCopiedAsFiveCharacters) {
    const Error e(sqlstate::invalid_parameter_value, "priority must be between 1 and 10");
    EXPECT_STREQ(e.sqlstate(), "22023");
    EXPECT_EQ(std::strlen(e.sqlstate()), 5u);
}

TEST(Error, MessageDetailAndHintAreKept) {
    const Error e(sqlstate::no_data_found, "workflow type \"x\" does not exist",
                  "no row in workflow_types", "create it with orchestrator.add_type()");
    EXPECT_STREQ(e.what(), "workflow type \"x\" does not exist");
    EXPECT_EQ(e.detail(), "no row in workflow_types");
    EXPECT_EQ(e.hint(), "create it with orchestrator.add_type()");
    EXPECT_STREQ(e.sqlstate(), "P0002");
}

TEST(Error, DetailAndHintDefaultToEmpty) {
    const Error e(sqlstate::internal_error, "boom");
    EXPECT_TRUE(e.detail().empty());
    EXPECT_TRUE(e.hint().empty());
}

TEST(Error, CustomOrClassSqlstatesAreCopied) {
    EXPECT_STREQ(Error(sqlstate::lease_expired, "late").sqlstate(), "OR001");
    EXPECT_STREQ(Error(sqlstate::execution_finished, "done").sqlstate(), "OR002");
}

TEST(Error, SqlstateFromUnterminatedStringViewIsTerminated) {
    const char buffer[] = {'2', '2', 'P', '0', '2', 'X', 'Y', 'Z'}; // no NUL
    const Error e(std::string_view(buffer, 5), "bad text");
    EXPECT_STREQ(e.sqlstate(), "22P02");
}

TEST(Error, OverlongSqlstateIsTruncatedToFiveCharacters) {
    const Error e("5400012345", "too many");
    EXPECT_STREQ(e.sqlstate(), "54000");
}

TEST(Error, ShortSqlstateIsKeptAndTerminated) {
    const Error e("22", "short");
    EXPECT_STREQ(e.sqlstate(), "22");
}

TEST(Error, CopyKeepsItsOwnSqlstate) {
    Error copy("00000", "placeholder");
    {
        const Error original(sqlstate::object_in_use, "busy", "d", "h");
        copy = original;
    }
    EXPECT_STREQ(copy.sqlstate(), "55006");
    EXPECT_STREQ(copy.what(), "busy");
    EXPECT_EQ(copy.detail(), "d");
    EXPECT_EQ(copy.hint(), "h");
}

TEST(Error, IsCatchableAsRuntimeError) {
    try {
        throw Error(sqlstate::program_limit_exceeded, "batch too large");
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "batch too large");
        const auto* err = dynamic_cast<const Error*>(&e);
        ASSERT_NE(err, nullptr);
        EXPECT_STREQ(err->sqlstate(), "54000");
        return;
    }
    FAIL() << "not caught";
}

TEST(Error, EverySqlstateConstantIsFiveUppercaseAlphanumerics) {
    for (std::string_view s :
         {sqlstate::invalid_parameter_value, sqlstate::null_value_not_allowed,
          sqlstate::invalid_text_representation, sqlstate::program_limit_exceeded,
          sqlstate::no_data_found, sqlstate::object_in_use, sqlstate::out_of_memory,
          sqlstate::internal_error, sqlstate::lease_expired, sqlstate::execution_finished}) {
        ASSERT_EQ(s.size(), 5u) << s;
        for (char c : s)
            EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(c)) ||
                        std::isupper(static_cast<unsigned char>(c)))
                << s;
    }
}

TEST(Error, SqlstateConstantsMatchPostgresCodes) {
    EXPECT_EQ(sqlstate::invalid_parameter_value, "22023");
    EXPECT_EQ(sqlstate::null_value_not_allowed, "22004");
    EXPECT_EQ(sqlstate::invalid_text_representation, "22P02");
    EXPECT_EQ(sqlstate::program_limit_exceeded, "54000");
    EXPECT_EQ(sqlstate::no_data_found, "P0002");
    EXPECT_EQ(sqlstate::object_in_use, "55006");
    EXPECT_EQ(sqlstate::out_of_memory, "53200");
    EXPECT_EQ(sqlstate::internal_error, "XX000");
}

} // namespace
