#include "quoter/research/results.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

using namespace quoter::research;
using quoter::sim::run_metrics;

namespace {

run_metrics metrics_of(double pnl, double drawdown, double sharpe) {
    run_metrics m;
    m.total_pnl = pnl;
    m.max_drawdown = drawdown;
    m.sharpe = sharpe;
    m.fills = 7;
    m.profit_factor = std::numeric_limits<double>::infinity();
    m.sortino = std::numeric_limits<double>::quiet_NaN();
    return m;
}

results_header header_of(std::vector<std::string> keys, std::size_t trials) {
    results_header h;
    h.fingerprint = "00112233aabbccdd";
    h.keys = std::move(keys);
    h.total_trials = trials;
    h.units = 2;
    h.unit_names = "2 paths";
    h.config_name = "sim.toml";
    h.config_text = "[strategy]\nmodel = \"linear\" # a comment \"quoted\"\n"
                    "[strategy.linear]\nspread_bps = 10.0\n"
                    "[profile.dev.strategy.linear]\nspread_bps = 3.0\n"
                    "[sweep]\npaths = 2\n";
    return h;
}

trial_row row_of(std::size_t index, std::string x, std::string y, double pnl) {
    trial t{index,
            {{"strategy.linear.spread_bps", std::move(x)}, {"strategy.model", std::move(y)}}};
    const std::vector<run_metrics> units{metrics_of(pnl, 2.0, 1.5),
                                         metrics_of(pnl + 1.0, 0.0, 0.5)};
    return summarize_trial(t, units);
}

} // namespace

TEST_CASE("a trial row holds every metric's distribution over its units", "[research][results]") {
    const auto row = row_of(3, "4.0", "\"glft\"", 10.0);
    REQUIRE(row.stats.size() == metric_defs().size());
    const auto& pnl = row.stats[metric_index("total_pnl")];
    CHECK(pnl.count == 2);
    CHECK(pnl.mean == Approx(10.5));
    CHECK(pnl.stddev == Approx(std::sqrt(0.5)));
    CHECK(pnl.min == 10.0);
    CHECK(pnl.max == 11.0);
    // PnL / drawdown is NaN without a drawdown and left out of the statistics.
    const auto& ratio = row.stats[metric_index("pnl_to_drawdown")];
    CHECK(ratio.count == 1);
    CHECK(ratio.mean == Approx(5.0));
    CHECK(metric_index("no_such_metric") == metric_defs().size());
}

TEST_CASE("results files read back exactly, NaN and infinities included", "[research][results]") {
    quoter::test::temp_dir dir("sweep-results");
    const auto file = dir.path() / "trials.jsonl";
    const auto header = header_of({"strategy.linear.spread_bps", "strategy.model"}, 4);
    auto writer = results_writer::open(file, header, false);
    REQUIRE(writer);
    auto a = row_of(2, "1.0", "\"linear\"", 1.0 / 3.0);
    a.stats[metric_index("profit_factor")].max = std::numeric_limits<double>::infinity();
    a.stats[metric_index("profit_factor")].min = -std::numeric_limits<double>::infinity();
    const auto b = row_of(0, "2.0", "\"glft\"", -7.25);
    REQUIRE(writer->append(a));
    REQUIRE(writer->append(b));
    {
        std::ofstream out(file, std::ios::app);
        out << "{\"trial\":1,\"units\""; // a run killed mid-line
    }
    const auto read = read_results(file);
    REQUIRE(read);
    CHECK(read->header == header);
    REQUIRE(read->rows.size() == 2);
    CHECK(read->rows[0].index == 0); // sorted by trial
    CHECK(row_json(read->rows[0]) == row_json(b));
    CHECK(row_json(read->rows[1]) == row_json(a));
    CHECK(read->rows[1].stats[metric_index("profit_factor")].max ==
          std::numeric_limits<double>::infinity());
    CHECK(read->rows[1].stats[metric_index("profit_factor")].min ==
          -std::numeric_limits<double>::infinity());
    CHECK(std::isnan(read->rows[1].stats[metric_index("sortino")].mean));
    CHECK(read->rows[1].stats[metric_index("total_pnl")].mean ==
          a.stats[metric_index("total_pnl")].mean);

    CHECK_FALSE(read_results(dir.write("bad.jsonl", "{\"format\":\"other\"}\n")));
    CHECK_FALSE(read_results(dir.path() / "missing.jsonl"));
}

TEST_CASE("a results row written before a metric was added reads it as not measured",
          "[research][results]") {
    quoter::test::temp_dir dir("sweep-results");
    const auto file = dir.path() / "trials.jsonl";
    {
        auto writer =
            results_writer::open(file, header_of({"strategy.linear.spread_bps"}, 2), false);
        REQUIRE(writer);
        trial t{0, {{"strategy.linear.spread_bps", "1.0"}}};
        run_metrics held = metrics_of(1.0, 2.0, 0.5);
        held.rate_holds = 3;
        held.rate_held_pct = 40.0;
        REQUIRE(writer->append(summarize_trial(t, std::vector<run_metrics>{held, held})));
    }
    // The same file as an earlier version wrote it: without the order-rate hold metrics.
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char* name : {"rate_holds", "rate_held_pct"}) {
        const std::string key = std::string(",\"") + name + "\":[";
        const auto at = text.find(key);
        REQUIRE(at != std::string::npos);
        text.erase(at, text.find(']', at) + 1 - at);
    }
    const auto older = dir.write("older.jsonl", text);
    const auto current = read_results(file);
    const auto read = read_results(older);
    REQUIRE(current);
    REQUIRE(read);
    REQUIRE(read->rows.size() == 1);
    CHECK(current->rows[0].stats[metric_index("rate_held_pct")].mean == 40.0);
    CHECK(current->rows[0].stats[metric_index("rate_holds")].mean == 3.0);
    CHECK(read->rows[0].stats[metric_index("rate_held_pct")].count == 0);
    CHECK(std::isnan(read->rows[0].stats[metric_index("rate_held_pct")].mean));
    CHECK(read->rows[0].stats[metric_index("total_pnl")].mean == 1.0);
}

TEST_CASE("merging shards: union of rows, one sweep only", "[research][results]") {
    const auto header = header_of({"strategy.linear.spread_bps", "strategy.model"}, 3);
    results_file one{header, {row_of(0, "1.0", "\"a\"", 1.0), row_of(2, "3.0", "\"a\"", 3.0)}};
    results_file two{header, {row_of(1, "2.0", "\"a\"", 2.0)}};
    const std::vector<results_file> parts{one, two};
    const auto merged = merge_results(parts);
    REQUIRE(merged);
    REQUIRE(merged->rows.size() == 3);
    CHECK(merged->rows[1].index == 1);

    results_file other = two;
    other.header.fingerprint = "ffffffffffffffff";
    const std::vector<results_file> mixed{one, other};
    CHECK_FALSE(merge_results(mixed));

    results_file clash{header, {row_of(0, "1.0", "\"a\"", 99.0)}};
    const std::vector<results_file> clashing{one, clash};
    const auto failed = merge_results(clashing);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().find("trial 0") != std::string::npos);
}

TEST_CASE("ranking by the objective, best first, NaN last", "[research][results]") {
    auto header = header_of({"strategy.linear.spread_bps", "strategy.model"}, 3);
    results_file results{header,
                         {row_of(0, "1.0", "\"a\"", 1.0), row_of(1, "2.0", "\"a\"", 5.0),
                          row_of(2, "3.0", "\"a\"", 3.0)}};
    CHECK(rank(results) == std::vector<std::size_t>{1, 2, 0});
    results.rows[1].stats[metric_index("total_pnl")].mean = std::nan("");
    CHECK(rank(results) == std::vector<std::size_t>{2, 0, 1});
    results.header.goal = *objective::parse("sharpe"); // equal Sharpe everywhere: trial order
    CHECK(rank(results) == std::vector<std::size_t>{0, 1, 2});
}

TEST_CASE("ranking by an objective expression; it survives the results file and shows in the "
          "report",
          "[research][results]") {
    auto header = header_of({"strategy.linear.spread_bps", "strategy.model"}, 3);
    header.goal = *objective::parse("-pnl + 0 * pnl.sd");
    results_file results{header,
                         {row_of(0, "1.0", "\"a\"", 1.0), row_of(1, "2.0", "\"a\"", 5.0),
                          row_of(2, "3.0", "\"a\"", 3.0)}};
    // Lowest PnL first: the expression, not the metric, decides.
    CHECK(rank(results) == std::vector<std::size_t>{0, 2, 1});
    // The header keeps the expression: read back, it ranks the same.
    quoter::test::temp_dir dir("research-results");
    {
        auto writer = results_writer::open(dir.path() / "trials.jsonl", header, false);
        REQUIRE(writer);
        for (const auto& row : results.rows) {
            REQUIRE(writer->append(row));
        }
    }
    const auto read = read_results(dir.path() / "trials.jsonl");
    REQUIRE(read);
    CHECK(read->header.goal.text() == "-pnl + 0 * pnl.sd");
    CHECK(rank(*read) == std::vector<std::size_t>{0, 2, 1});
    CHECK_THAT(ranking_markdown(results, 10), Catch::Contains("objective `-pnl + 0 * pnl.sd`"));
    CHECK_THAT(trials_json(results), Catch::Contains("\"objective\": \"-pnl + 0 * pnl.sd\""));
    CHECK_THAT(report_html(results), Catch::Contains("-pnl + 0 * pnl.sd"));
}

TEST_CASE("best.toml: parameters written in, profiles cannot undo them, no [sweep]",
          "[research][results]") {
    const auto header = header_of({}, 1);
    const std::vector<parameter> best{{"strategy.linear.spread_bps", "4.5"},
                                      {"strategy.model", "glft"},
                                      {"strategy.glft.gamma_per_tick", "0.001"}};
    const auto text = apply_parameters(header.config_text, best);
    REQUIRE(text);
    const toml::table table = toml::parse(*text);
    CHECK(table.at_path("strategy.linear.spread_bps").value<double>() == 4.5);
    CHECK(table.at_path("strategy.model").value<std::string>() == "glft");
    CHECK(table.at_path("strategy.glft.gamma_per_tick").value<double>() == 0.001);
    CHECK_FALSE(table.contains("sweep"));
    CHECK_FALSE(table.at_path("profile.dev.strategy.linear.spread_bps"));
}

TEST_CASE("the report files", "[research][results]") {
    quoter::test::temp_dir dir("sweep-report");
    const auto header = header_of({"strategy.linear.spread_bps", "strategy.model"}, 4);
    const results_file results{header,
                               {row_of(0, "1.0", "\"a\"", 1.0), row_of(1, "1.0", "\"b\"", 4.0),
                                row_of(2, "2.0", "\"a\"", 3.0), row_of(3, "2.0", "\"b\"", 2.0)}};
    const auto written = write_report(dir.path(), results);
    REQUIRE(written);
    CHECK(written->size() == 5);

    const auto csv = trials_csv(results);
    CHECK(csv.starts_with("trial,strategy.linear.spread_bps,strategy.model,units,rank,"
                          "total_pnl_mean,total_pnl_sd,"));
    CHECK(csv.find("\n1,1.0,\"\"\"b\"\"\",2,1,4.5,") != std::string::npos);

    const auto md = ranking_markdown(results, 2);
    CHECK(md.find("| 1 | 1 | 1.0 | \"b\" |") != std::string::npos);
    CHECK(md.find("2 more trials") != std::string::npos);

    const auto html = report_html(results);
    CHECK(html.find("Mean PnL over the two swept keys") != std::string::npos);
    CHECK(html.find("<circle") != std::string::npos);
    CHECK(html.find("http://") == html.find("http://www.w3.org")); // nothing fetched

    const auto json = trials_json(results);
    CHECK(json.find("\"ranking\": [1, 2, 3, 0]") != std::string::npos);

    std::ifstream best(dir.path() / "best.toml");
    std::string first_line;
    std::getline(best, first_line);
    CHECK(first_line.find("best trial (1)") != std::string::npos);
}

TEST_CASE("a walk-forward over folds: per fold and out of sample", "[research][results][folds]") {
    const auto row = [](std::size_t index, std::string spread, double pnl, double sharpe) {
        const std::vector<run_metrics> units{metrics_of(pnl, 2.0, sharpe),
                                             metrics_of(pnl, 4.0, sharpe)};
        return summarize_trial(trial{index, {{"s", std::move(spread)}}}, units);
    };
    walk_forward_folds walk;
    walk.goal = *objective::parse("pnl");
    walk.keys = {"s"};
    walk.unit_names = "2 captures";
    walk.split = 0.5;
    const auto windows = fold_windows(3, 0.5, false);
    walk.folds = {
        {windows[0], 2, row(0, "1", 4.0, 1.0), row(0, "1", -1.0, -2.0)},
        {windows[1], 2, row(0, "1", 2.0, 1.0), row(0, "1", 3.0, std::nan(""))},
        {windows[2], 2, row(1, "5", 6.0, 1.0), row(1, "5", 1.0, 4.0)},
    };
    const auto sum = summarize(walk);
    CHECK(sum.oos_pnl == 3.0);
    CHECK(sum.test_objective_mean == 1.0);
    CHECK(sum.test_objective_sd == Approx(2.0));
    CHECK(sum.train_objective_mean == 4.0);
    CHECK(sum.profitable_folds == 2);
    CHECK(sum.changes == 1);
    CHECK(sum.mean_sharpe == 1.0); // the fold without a Sharpe is left out
    CHECK(sum.worst_drawdown == 3.0);
    CHECK(sum.oos_fills == 21.0);
    // Same time in train and test windows here (rolling, 50 %): PnL 3 against 12.
    CHECK(sum.efficiency == Approx(0.25));

    const std::string md = walk_forward_markdown(walk);
    CHECK_THAT(md, Catch::Contains("3 rolling folds over 2 captures"));
    CHECK_THAT(md, Catch::Contains("| 1 | 0.0–25.0 % | 25.0–50.0 % | 0 | 1 | 4 | -1 |"));
    CHECK_THAT(md, Catch::Contains("| 3 | 50.0–75.0 % | 75.0–100.0 % | 1 | 5 | 6 | 1 |"));
    CHECK_THAT(md, Catch::Contains("| PnL of the test windows end to end | 3 |"));
    CHECK_THAT(md, Catch::Contains("| folds with a positive test PnL | 2 of 3 |"));
    const std::string json = walk_forward_json(walk);
    CHECK_THAT(json, Catch::Contains("\"mode\": \"rolling\""));
    CHECK_THAT(json, Catch::Contains("{\"fold\": 3, \"train_window\": [0.5, 0.75], "
                                     "\"test_window\": [0.75, 1], \"trials_ranked\": 2, "
                                     "\"trial\": 1, \"parameters\": {\"s\": \"5\"}"));
    CHECK_THAT(json, Catch::Contains("\"pnl\": 3,"));
}
