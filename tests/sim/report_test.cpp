#include "quoter/sim/report.hpp"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace quoter;
using namespace quoter::sim;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp folder, removed when the test ends.
class temp_dir {
public:
    temp_dir() {
        static int counter = 0;
        path_ = fs::temp_directory_path() / ("quoter_sim_report_" + std::to_string(::getpid()) +
                                             "_" + std::to_string(++counter));
        fs::remove_all(path_);
    }
    ~temp_dir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

std::size_t commas(const std::string& line) {
    return static_cast<std::size_t>(std::count(line.begin(), line.end(), ','));
}

// Every row has the header's number of fields; returns the number of data rows.
std::size_t check_csv(const std::string& text, std::string_view expected_header) {
    const auto lines = lines_of(text);
    REQUIRE(!lines.empty());
    CHECK(lines[0] == expected_header);
    for (const auto& line : lines) {
        REQUIRE(commas(line) == commas(lines[0]));
    }
    CHECK(text.back() == '\n');
    return lines.size() - 1;
}

struct sample_run {
    std::vector<pnl_sample> pnl;
    std::vector<fill_record> fills;
    std::vector<order_record> orders;
    run_report report;
};

sample_run make_run(std::size_t samples) {
    sample_run run;
    double inventory = 0.0;
    for (std::size_t i = 0; i < samples; ++i) {
        pnl_sample s;
        s.time_ns = static_cast<core::timestamp_ns>(i) * 100 * core::ns_per_ms;
        s.mid = 100.0 + std::sin(static_cast<double>(i) * 0.05);
        // Quotes are missing for a stretch, as when a strategy stops quoting.
        const bool quoting = i % 40 < 30;
        s.bid_quote = quoting ? std::floor((s.mid - 0.05) * 100) / 100 : no_quote;
        s.ask_quote = quoting ? std::ceil((s.mid + 0.05) * 100) / 100 : no_quote;
        if (i % 7 == 3) {
            inventory += i % 2 == 0 ? 0.5 : -0.5;
            fill_record f;
            f.time_ns = s.time_ns;
            f.order_id = i;
            f.side = i % 2 == 0 ? core::side::buy : core::side::sell;
            f.price = f.side == core::side::buy ? s.bid_quote : s.ask_quote;
            f.quantity = 0.5;
            f.fee = -0.0001;
            f.mid = s.mid;
            f.inventory_after = inventory;
            run.fills.push_back(f);
            order_record o;
            o.time_ns = s.time_ns;
            o.order_id = i;
            o.event = order_event::submitted;
            o.side = f.side;
            o.price = f.price;
            o.quantity = 0.5;
            run.orders.push_back(o);
            o.event = order_event::filled;
            o.filled_quantity = 0.5;
            run.orders.push_back(o);
        }
        s.inventory = inventory;
        s.cash = 1000.0 - inventory * s.mid + static_cast<double>(i) * 0.001;
        s.equity = s.cash + inventory * s.mid;
        s.realized_pnl = static_cast<double>(i) * 0.001;
        s.unrealized_pnl = -0.0000001; // rounds to zero: must not print as "-0.000000"
        run.pnl.push_back(s);
    }
    run.report.title = "Test run <linear & co>";
    run.report.pnl = run.pnl;
    run.report.fills = run.fills;
    run.report.orders = run.orders;
    run.report.metrics = compute_metrics(run.pnl, run.fills, count_activity(run.orders));
    run.report.parameters = {
        {"strategy.model", "linear"}, {"market.seed", "42"}, {"quote\"d", "a|b"}};
    return run;
}

void check_offline_html(const std::string& html) {
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(html.find("</html>") != std::string::npos);
    CHECK(html.find("http://") == std::string::npos);
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find("src=") == std::string::npos);
    CHECK(html.find("href=") == std::string::npos);
    CHECK(html.find("url(") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
}

} // namespace

TEST_CASE("a run report writes well-formed files", "[report]") {
    const auto run = make_run(500);
    temp_dir dir;
    const auto written = write_run_report(dir.path(), run.report);
    REQUIRE(written.has_value());
    CHECK(written->size() == 6);
    for (const auto* name :
         {"pnl.csv", "fills.csv", "orders.csv", "report.json", "report.md", "report.html"}) {
        INFO(name);
        CHECK(fs::is_regular_file(dir.path() / name));
    }

    const std::string pnl_csv = read_file(dir.path() / "pnl.csv");
    CHECK(check_csv(pnl_csv,
                    "time_ns,mid,bid,ask,inventory,cash,equity,realized_pnl,unrealized_pnl,"
                    "fees") == run.pnl.size());
    CHECK(pnl_csv.find("-0.000000") == std::string::npos);
    const auto rows = lines_of(pnl_csv);
    CHECK(rows[1] == "0,100.0000,99.95,100.05,0.000000,1000.000000,1000.000000,0.000000,"
                     "0.000000,0.000000");
    CHECK(rows[31].find(",,,") != std::string::npos); // no quotes: empty fields
    CHECK(check_csv(read_file(dir.path() / "fills.csv"),
                    "time_ns,order_id,side,level,liquidity,price,quantity,notional,fee,mid,"
                    "realized_pnl,inventory_after") == run.fills.size());
    CHECK(check_csv(read_file(dir.path() / "orders.csv"),
                    "time_ns,order_id,event,side,level,price,quantity,filled_quantity") ==
          run.orders.size());

    simdjson::dom::parser parser;
    const std::string json = read_file(dir.path() / "report.json");
    simdjson::dom::element doc;
    REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
    CHECK(std::string_view(doc["title"]) == "Test run <linear & co>");
    CHECK(std::string_view(doc["kind"]) == "single_path");
    CHECK(std::string_view(doc["parameters"]["quote\"d"]) == "a|b");
    CHECK(std::uint64_t(doc["counts"]["pnl_samples"]) == run.pnl.size());
    CHECK(std::uint64_t(doc["metrics"]["fills"]) == run.fills.size());
    CHECK(double(doc["metrics"]["total_pnl"]) == run.report.metrics.total_pnl);
    CHECK(double(doc["metrics"]["max_drawdown"]) == run.report.metrics.max_drawdown);
    CHECK(doc["metrics"]["profit_factor"].is_null()); // no closing fill realized anything

    const std::string md = read_file(dir.path() / "report.md");
    CHECK(md.rfind("# Test run", 0) == 0);
    CHECK(md.find("| Sharpe ratio |") != std::string::npos);
    CHECK(md.find("a\\|b") != std::string::npos);

    const std::string html = read_file(dir.path() / "report.html");
    check_offline_html(html);
    CHECK(html.find("<svg") != std::string::npos);
    CHECK(std::count(html.begin(), html.end(), '<') > 100);
    CHECK(html.find("Test run &lt;linear &amp; co&gt;") != std::string::npos);
    for (const auto* chart : {"Equity (quote units)", "Inventory (base units)",
                              "Mid and quoted bid/ask", "Quote distance from the mid"}) {
        INFO(chart);
        CHECK(html.find(chart) != std::string::npos);
    }
}

TEST_CASE("a short run's annualised figures carry a caveat; run counts are reported", "[report]") {
    auto run = make_run(500);
    run.report.counters = {{"malformed", "Malformed messages", 34},
                           {"risk_refusals_price_band", "Risk refusals: price_band", 7}};
    REQUIRE(run.report.metrics.duration_s < annualisation_caveat_below_s);
    const std::string md = format_report_markdown(run.report);
    const std::string html = format_report_html(run.report);
    const std::string json = format_report_json(run.report);
    CHECK(md.find("less than a day") != std::string::npos);
    CHECK(html.find("less than a day") != std::string::npos);
    CHECK(json.find("\"run_counts\": {\n    \"malformed\": 34,\n    "
                    "\"risk_refusals_price_band\": 7\n  }") != std::string::npos);
    CHECK(md.find("| Malformed messages | 34 |") != std::string::npos);
    CHECK(html.find("Risk refusals: price_band") != std::string::npos);

    CHECK(json.find("\"annualisation_caveat\": \"Caveat: this run covers") != std::string::npos);

    run.report.metrics.duration_s = annualisation_caveat_below_s;
    CHECK(format_report_markdown(run.report).find("less than a day") == std::string::npos);
    CHECK(format_report_html(run.report).find("less than a day") == std::string::npos);
    CHECK(format_report_json(run.report).find("\"annualisation_caveat\": null,") !=
          std::string::npos);

    // A drawdown of a few USDT on a large account: the headline card gives the money too.
    run.report.metrics.max_drawdown = 1.08;
    run.report.metrics.max_drawdown_pct = 0.00108;
    CHECK(format_report_html(run.report).find("1.0800 (0.001%)") != std::string::npos);
}

TEST_CASE("identical input gives byte-identical files", "[report]") {
    const auto first = make_run(300);
    const auto second = make_run(300);
    temp_dir a;
    temp_dir b;
    REQUIRE(write_run_report(a.path(), first.report).has_value());
    REQUIRE(write_run_report(b.path(), second.report).has_value());
    for (const auto* name :
         {"pnl.csv", "fills.csv", "orders.csv", "report.json", "report.md", "report.html"}) {
        INFO(name);
        const std::string left = read_file(a.path() / name);
        CHECK(!left.empty());
        CHECK(left == read_file(b.path() / name));
    }
    CHECK(format_pnl_csv(first.pnl, {}) == read_file(a.path() / "pnl.csv"));
}

TEST_CASE("long runs are downsampled for the charts but not for the CSV", "[report]") {
    auto run = make_run(200000);
    run.pnl[123457].equity += 50.0; // a spike that plain decimation would miss
    run.report.pnl = run.pnl;
    const std::string html = format_report_html(run.report);
    check_offline_html(html);
    CHECK(html.size() < 1'500'000);
    CHECK(html.find("of 200000 samples") != std::string::npos);
    CHECK(lines_of(format_pnl_csv(run.pnl, {})).size() == 200001);

    std::vector<double> equity(run.pnl.size());
    for (std::size_t i = 0; i < run.pnl.size(); ++i) {
        equity[i] = run.pnl[i].equity;
    }
    const std::array<std::span<const double>, 1> series{equity};
    const auto keep = downsample_min_max(equity.size(), series, 600);
    CHECK(keep.size() <= 600 * 4);
    CHECK(keep.front() == 0);
    CHECK(keep.back() == equity.size() - 1);
    CHECK(std::is_sorted(keep.begin(), keep.end()));
    CHECK(std::find(keep.begin(), keep.end(), 123457) != keep.end());
    const auto all = downsample_min_max(100, series, 600);
    CHECK(all.size() == 100);
}

TEST_CASE("a multi-path report writes the per-path table and histograms", "[report]") {
    std::vector<path_summary> paths;
    for (std::size_t i = 0; i < 250; ++i) {
        run_metrics m;
        m.total_pnl = std::sin(static_cast<double>(i)) * 10.0;
        m.final_inventory = std::cos(static_cast<double>(i) * 0.7);
        m.sharpe = i == 5 ? std::numeric_limits<double>::quiet_NaN() : 0.5;
        m.fills = i;
        paths.push_back(summarize_path(i, 1000 + i, m));
    }
    const auto example = make_run(100);
    multi_path_report report;
    report.title = "Many paths";
    report.paths = paths;
    report.metrics = aggregate_paths(paths);
    report.parameters = {{"paths", "250"}};
    report.counters = {{"risk_refusals", "Risk refusals", 19}};
    report.path_duration_s = 3600.0;
    report.representative = &example.report;

    temp_dir dir;
    const auto written = write_multi_path_report(dir.path(), report);
    REQUIRE(written.has_value());
    CHECK(written->size() == 4);
    const std::string csv = read_file(dir.path() / "paths.csv");
    CHECK(check_csv(csv, "path,seed,final_pnl,total_return_pct,final_inventory,sharpe,"
                         "max_drawdown,max_drawdown_pct,fills,net_fees,mean_abs_inventory,"
                         "mean_quoted_spread") == 250);
    CHECK(lines_of(csv)[6].rfind("5,1005,", 0) == 0);

    simdjson::dom::parser parser;
    const std::string json = read_file(dir.path() / "report.json");
    simdjson::dom::element doc;
    REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
    CHECK(std::uint64_t(doc["paths"]) == 250);
    CHECK(double(doc["aggregate"]["final_pnl"]["mean"]) == report.metrics.final_pnl.mean);
    CHECK(double(doc["aggregate"]["final_inventory"]["stddev"]) ==
          report.metrics.final_inventory.stddev);
    CHECK(std::uint64_t(doc["aggregate"]["sharpe"]["count"]) == 249);
    // Counts over every path, and the caveat of paths shorter than a day.
    CHECK(std::uint64_t(doc["run_counts"]["risk_refusals"]) == 19);
    CHECK(std::string_view(doc["annualisation_caveat"])
              .starts_with("Caveat: each path covers 3600.0 s"));

    const std::string html = read_file(dir.path() / "report.html");
    check_offline_html(html);
    CHECK(html.find("Distribution of final PnL") != std::string::npos);
    CHECK(html.find("<rect") != std::string::npos);
    CHECK(html.find("Example path") != std::string::npos);
    CHECK(read_file(dir.path() / "report.md").find("| Final PnL | 250 |") != std::string::npos);
    CHECK(read_file(dir.path() / "report.md").find("| Risk refusals | 19 |") != std::string::npos);
    CHECK(read_file(dir.path() / "report.md").find("each path covers 3600.0 s") !=
          std::string::npos);
    CHECK(html.find("each path covers 3600.0 s") != std::string::npos);
    CHECK(html.find("<td>Risk refusals</td><td class=\"n\">19</td>") != std::string::npos);

    temp_dir again;
    REQUIRE(write_multi_path_report(again.path(), report).has_value());
    for (const auto* name : {"paths.csv", "report.json", "report.md", "report.html"}) {
        INFO(name);
        CHECK(read_file(dir.path() / name) == read_file(again.path() / name));
    }
}

TEST_CASE("an unwritable destination is reported, not thrown", "[report]") {
    temp_dir dir;
    fs::create_directories(dir.path());
    const fs::path blocker = dir.path() / "not_a_directory";
    std::ofstream(blocker) << "x";
    const auto run = make_run(10);
    const auto result = write_run_report(blocker / "out", run.report);
    REQUIRE_FALSE(result.has_value());
    CHECK(!result.error().path.empty());
    CHECK(!result.error().reason.empty());
}

TEST_CASE("the run report's HTML marks fills, draws the drawdown and names its provenance",
          "[report][html]") {
    auto run = make_run(400);
    run.report.provenance = {.config_file = "config/sim.toml",
                             .version = "0.1.0",
                             .generated = "2026-12-04 21:33:26 UTC"};
    const std::string html = format_report_html(run.report);
    check_offline_html(html);
    std::size_t buys = 0;
    std::size_t sells = 0;
    for (const auto& f : run.fills) {
        if (std::isfinite(f.price)) { // fills in make_run's unquoted stretches have no price
            (f.side == core::side::buy ? buys : sells) += 1;
        }
    }
    CHECK(buys > 10);
    const auto occurrences = [&](std::string_view needle) {
        std::size_t n = 0;
        for (auto at = html.find(needle); at != std::string::npos; at = html.find(needle, at + 1)) {
            ++n;
        }
        return n;
    };
    // One marker per fill, on the chart of the quotes around the mid.
    CHECK(occurrences("<polygon class=\"fill-buy\"") == buys);
    CHECK(occurrences("<polygon class=\"fill-sell\"") == sells);
    CHECK(html.find("<h2>Drawdown</h2>") != std::string::npos);
    CHECK(html.find("config/sim.toml") != std::string::npos);
    CHECK(html.find("quoter 0.1.0") != std::string::npos);
    CHECK(html.find("2026-12-04 21:33:26 UTC") != std::string::npos);

    simdjson::dom::parser parser;
    const std::string json = format_report_json(run.report);
    simdjson::dom::element doc;
    REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
    CHECK(std::string_view(doc["provenance"]["config_file"]) == "config/sim.toml");
    CHECK(std::string_view(doc["provenance"]["version"]) == "0.1.0");
    // Without provenance, nothing is claimed.
    CHECK(format_report_json(make_run(10).report).find("provenance") == std::string::npos);
}

TEST_CASE("the equity spread across paths: quantiles per time, drawn as bands", "[report][html]") {
    std::vector<std::vector<double>> pnl_by_path;
    for (int p = 0; p < 101; ++p) {
        std::vector<double> series;
        for (int t = 0; t < 50; ++t) {
            series.push_back(static_cast<double>((p - 50) * t)); // spread grows with time
        }
        pnl_by_path.push_back(std::move(series));
    }
    std::vector<double> x_s;
    for (int t = 0; t < 50; ++t) {
        x_s.push_back(static_cast<double>(t));
    }
    const equity_spread spread = make_equity_spread(x_s, pnl_by_path);
    REQUIRE(spread.median.size() == 50);
    CHECK(spread.median[10] == 0.0);
    CHECK(spread.p05[10] == Approx(-450.0)); // path 5 of 0..100: (5 - 50) * 10
    CHECK(spread.p95[10] == Approx(450.0));
    CHECK(spread.p25[10] == Approx(-250.0));
    CHECK(spread.p75[49] == Approx(25.0 * 49));

    std::vector<path_summary> paths{summarize_path(0, 1, run_metrics{})};
    multi_path_report report;
    report.paths = paths;
    report.metrics = aggregate_paths(paths);
    report.spread = spread;
    const std::string html = format_multi_path_html(report);
    check_offline_html(html);
    CHECK(html.find("PnL spread across paths") != std::string::npos);
    CHECK(html.find("<polygon class=\"band\"") != std::string::npos);
    report.spread = {};
    CHECK(format_multi_path_html(report).find("PnL spread across paths") == std::string::npos);
}
