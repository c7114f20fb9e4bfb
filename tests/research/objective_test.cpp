// The sweep objective: parsing (shortcuts, metrics and their statistics, operators, precedence,
// functions), the errors it gives (unknown metric or function, position of a syntax error),
// and evaluation over a trial row's statistics.
#include "quoter/research/objective.hpp"
#include "quoter/research/results.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using quoter::research::metric_defs;
using quoter::research::metric_index;
using quoter::research::objective;
using quoter::sim::distribution_stats;

namespace {

/// A row's statistics: every metric's mean 1, with the ones named set.
std::vector<distribution_stats> row_stats() {
    std::vector<distribution_stats> stats(metric_defs().size());
    for (auto& s : stats) {
        s.mean = 1.0;
        s.count = 4;
    }
    auto& pnl = stats[metric_index("total_pnl")];
    pnl.mean = 10.0;
    pnl.stddev = 4.0;
    pnl.p05 = -2.0;
    pnl.median = 9.0;
    pnl.p95 = 20.0;
    pnl.min = -5.0;
    pnl.max = 25.0;
    stats[metric_index("sharpe")].mean = 3.0;
    stats[metric_index("sharpe")].stddev = 2.0;
    stats[metric_index("max_drawdown")].mean = 2.5;
    stats[metric_index("final_inventory")].mean = -0.75;
    stats[metric_index("pnl_to_drawdown")].mean = 7.0;
    return stats;
}

double eval(const std::string& text) {
    const auto parsed = objective::parse(text);
    INFO(text << ": " << (parsed ? std::string() : parsed.error()));
    REQUIRE(parsed);
    return parsed->value(row_stats());
}

std::string error_of(const std::string& text) {
    const auto parsed = objective::parse(text);
    REQUIRE_FALSE(parsed);
    return parsed.error();
}

} // namespace

TEST_CASE("objective: the shortcuts and a single metric name one metric's mean", "[objective]") {
    CHECK(objective().text() == "pnl");
    CHECK(objective().metric() == "total_pnl");
    CHECK(eval("pnl") == 10.0);
    CHECK(objective::parse("sharpe")->metric() == "sharpe");
    CHECK(eval("sharpe") == 3.0);
    CHECK(objective::parse("pnl_drawdown")->metric() == "pnl_to_drawdown");
    CHECK(objective::parse("pnl/dd")->metric() == "pnl_to_drawdown");
    CHECK(eval("pnl/dd") == 7.0);
    CHECK(objective::parse("  total_pnl ")->text() == "total_pnl");
    // An expression is not one metric.
    CHECK(objective::parse("pnl / max_drawdown")->metric().empty());
    CHECK(objective::parse("sharpe.sd")->metric().empty());
}

TEST_CASE("objective: arithmetic, precedence, unary minus and parentheses", "[objective]") {
    CHECK(eval("pnl / max_drawdown") == 4.0);
    CHECK(eval("pnl - 2 * sharpe") == 4.0);
    CHECK(eval("(pnl - 2) * sharpe") == 24.0);
    CHECK(eval("-pnl + 1") == -9.0);
    CHECK(eval("--pnl") == 10.0);
    CHECK(eval("- (pnl)") == -10.0);
    CHECK(eval("pnl - -1") == 11.0);
    CHECK(eval("10 / 4 / 5") == Approx(0.5));
    CHECK(eval("1 - 2 - 3") == -4.0);
    CHECK(eval("2.5e1 + .5") == 25.5);
    CHECK(eval("+3") == 3.0);
}

TEST_CASE("objective: statistics of a metric and functions", "[objective]") {
    CHECK(eval("sharpe - 0.5 * sharpe.sd") == 2.0);
    CHECK(eval("total_pnl.p05") == -2.0);
    CHECK(eval("pnl.median + pnl.p95") == 29.0);
    CHECK(eval("pnl.min + pnl.max + pnl.mean") == 30.0);
    CHECK(eval("pnl.stddev") == 4.0);
    CHECK(eval("pnl.count") == 4.0);
    CHECK(eval("abs(final_inventory)") == 0.75);
    CHECK(eval("-abs(final_inventory)") == -0.75);
    CHECK(eval("sqrt(pnl.stddev)") == 2.0);
    CHECK(eval("min(pnl, sharpe, 5)") == 3.0);
    CHECK(eval("max(pnl, sharpe)") == 10.0);
    CHECK(eval("pnl / max(max_drawdown, 5)") == 2.0);
    CHECK(eval("exp(0)") == 1.0);
    CHECK(eval("log(exp(2))") == Approx(2.0));
}

TEST_CASE("objective: undefined values are NaN, which ranks last", "[objective]") {
    CHECK(std::isnan(eval("pnl / 0")));
    CHECK(std::isnan(eval("sqrt(-1)")));
    CHECK(std::isnan(eval("log(0)")));
    auto stats = row_stats();
    stats[metric_index("sharpe")].mean = std::nan("");
    CHECK(std::isnan(objective::parse("max(sharpe, 1)")->value(stats)));
    CHECK(std::isnan(objective::parse("sharpe + 1")->value(stats)));
}

TEST_CASE("objective: errors name the unknown metric and the position of a syntax error",
          "[objective]") {
    CHECK_THAT(error_of("pnl + sharp"), Catch::Contains("unknown metric \"sharp\" at position 7"));
    CHECK_THAT(error_of("pnl + sharp"), Catch::Contains("metrics: pnl, total_pnl"));
    CHECK_THAT(error_of("pnl.mode"), Catch::Contains("unknown statistic \"mode\" at position 5"));
    CHECK_THAT(error_of("median(pnl)"),
               Catch::Contains("unknown function \"median\" at position 1"));
    CHECK_THAT(error_of("pnl + * 2"),
               Catch::Contains("syntax error at position 7 of \"pnl + * 2\""));
    CHECK_THAT(error_of("(pnl + 1"), Catch::Contains("syntax error at position 9"));
    CHECK_THAT(error_of("(pnl + 1"), Catch::Contains("expected \")\""));
    CHECK_THAT(error_of("pnl sharpe"), Catch::Contains("syntax error at position 5"));
    CHECK_THAT(error_of("pnl +"), Catch::Contains("found the end"));
    CHECK_THAT(error_of("pnl $ 2"), Catch::Contains("syntax error at position 5"));
    CHECK_THAT(error_of("abs(pnl, 2)"), Catch::Contains("abs() at position 1"));
    CHECK_THAT(error_of("abs(pnl, 2)"), Catch::Contains("takes 1 argument, not 2"));
    CHECK_THAT(error_of("max(pnl)"), Catch::Contains("takes at least 2 arguments, not 1"));
    CHECK_THAT(error_of("abs + 1"), Catch::Contains("expected \"(\" after the function abs"));
    CHECK_THAT(error_of(""), Catch::Contains("empty objective"));
    CHECK_THAT(error_of(std::string(100, '(') + "pnl" + std::string(100, ')')),
               Catch::Contains("nested too deeply"));
}

TEST_CASE("objective: equal exactly when the texts are", "[objective]") {
    CHECK(*objective::parse("sharpe") == *objective::parse(" sharpe"));
    CHECK_FALSE(*objective::parse("sharpe") == *objective::parse("sharpe + 0"));
    CHECK(*objective::parse("pnl") == objective());
}
