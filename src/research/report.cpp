// The sweep report: trials.csv, trials.json, ranking.md, best.toml (report.html is in
// report_html.cpp).
#include "quoter/research/results.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace quoter::research {
namespace {

std::string csv_number(double value) {
    if (std::isnan(value)) {
        return "";
    }
    return fmt::format("{:.10g}", value);
}

std::string csv_field(std::string_view text) {
    if (text.find_first_of(",\"\n") == std::string_view::npos) {
        return std::string(text);
    }
    std::string out = "\"";
    for (const char c : text) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + '"';
}

std::string json_number(double value) {
    if (std::isnan(value)) {
        return "null";
    }
    if (std::isinf(value)) {
        return value > 0 ? "\"inf\"" : "\"-inf\"";
    }
    return fmt::format("{:.10g}", value);
}

/// The objective's name in tables: a metric's label, or the expression.
std::string objective_label(const objective& goal) {
    const std::string_view metric = goal.metric();
    if (!metric.empty()) {
        return std::string(metric_defs()[metric_index(metric)].label);
    }
    return std::string(goal.text());
}

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
            out += c;
        }
    }
    return out + '"';
}

std::string value_of(const trial_row& row, std::string_view key) {
    for (const auto& p : row.parameters) {
        if (p.key == key) {
            return p.value;
        }
    }
    return {};
}

std::string markdown_number(double value) {
    if (std::isnan(value)) {
        return "-";
    }
    return fmt::format("{:.4g}", value);
}

bool write_file(const std::filesystem::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    return static_cast<bool>(out.flush());
}

} // namespace

std::string trials_csv(const results_file& results) {
    const auto defs = metric_defs();
    std::string out = "trial";
    for (const auto& key : results.header.keys) {
        out += ',';
        out += csv_field(key);
    }
    out += ",units,rank";
    for (const auto& def : defs) {
        for (const char* stat : {"mean", "sd", "min", "p05", "median", "p95", "max"}) {
            out += fmt::format(",{}_{}", def.name, stat);
        }
    }
    out += '\n';
    const auto order = rank(results);
    std::vector<std::size_t> rank_of(results.rows.size());
    for (std::size_t r = 0; r < order.size(); ++r) {
        rank_of[order[r]] = r + 1;
    }
    for (std::size_t i = 0; i < results.rows.size(); ++i) {
        const auto& row = results.rows[i];
        out += fmt::format("{}", row.index);
        for (const auto& key : results.header.keys) {
            out += ',';
            out += csv_field(value_of(row, key));
        }
        out += fmt::format(",{},{}", row.units, rank_of[i]);
        for (const auto& s : row.stats) {
            for (const double v : {s.mean, s.stddev, s.min, s.p05, s.median, s.p95, s.max}) {
                out += ',';
                out += csv_number(v);
            }
        }
        out += '\n';
    }
    return out;
}

std::string trials_json(const results_file& results) {
    const auto defs = metric_defs();
    const auto& h = results.header;
    std::string out = fmt::format("{{\n  \"fingerprint\": {},\n  \"objective\": {},\n"
                                  "  \"objective_metric\": {},\n  \"trials_total\": {},\n"
                                  "  \"trials_done\": {},\n  \"units\": {},\n  \"keys\": [",
                                  json_string(h.fingerprint), json_string(to_string(h.goal)),
                                  json_string(objective_metric(h.goal)), h.total_trials,
                                  results.rows.size(), h.units);
    for (std::size_t i = 0; i < h.keys.size(); ++i) {
        out += i == 0 ? "" : ", ";
        out += json_string(h.keys[i]);
    }
    out += "],\n  \"ranking\": [";
    const auto order = rank(results);
    for (std::size_t r = 0; r < order.size(); ++r) {
        out += fmt::format("{}{}", r == 0 ? "" : ", ", results.rows[order[r]].index);
    }
    out += "],\n  \"trials\": [";
    for (std::size_t i = 0; i < results.rows.size(); ++i) {
        const auto& row = results.rows[i];
        out += fmt::format("{}\n    {{\"trial\": {}, \"units\": {}, \"objective\": {}, "
                           "\"parameters\": {{",
                           i == 0 ? "" : ",", row.index, row.units,
                           json_number(h.goal.value(row.stats)));
        for (std::size_t p = 0; p < row.parameters.size(); ++p) {
            out += fmt::format("{}{}: {}", p == 0 ? "" : ", ", json_string(row.parameters[p].key),
                               json_string(row.parameters[p].value));
        }
        out += "}, \"metrics\": {";
        for (std::size_t m = 0; m < defs.size(); ++m) {
            const auto& s = row.stats[m];
            out +=
                fmt::format("{}\n      \"{}\": {{\"mean\": {}, \"sd\": {}, \"min\": {}, "
                            "\"p05\": {}, \"median\": {}, \"p95\": {}, \"max\": {}, "
                            "\"count\": {}}}",
                            m == 0 ? "" : ",", defs[m].name, json_number(s.mean),
                            json_number(s.stddev), json_number(s.min), json_number(s.p05),
                            json_number(s.median), json_number(s.p95), json_number(s.max), s.count);
        }
        out += "}}";
    }
    out += "\n  ]\n}\n";
    return out;
}

std::string ranking_markdown(const results_file& results, std::size_t max_rows) {
    const auto& h = results.header;
    const auto defs = metric_defs();
    const std::string label = objective_label(h.goal);
    const std::size_t pnl = metric_index("total_pnl");
    const std::size_t sharpe = metric_index("sharpe");
    const std::size_t dd = metric_index("max_drawdown");
    const std::size_t fills = metric_index("fills");
    std::string out = fmt::format(
        "# Sweep ranking\n\nConfiguration `{}`{}; {} of {} trials, each on {}; ranked by {} "
        "(objective `{}`), best first. Values are means over the units, ± one standard "
        "deviation.\n\n",
        h.config_name, h.profile.empty() ? "" : fmt::format(" (profile {})", h.profile),
        results.rows.size(), h.total_trials, h.unit_names,
        h.goal.metric().empty() ? std::string("the expression") : "the mean " + label,
        to_string(h.goal));
    out += "| rank | trial |";
    for (const auto& key : h.keys) {
        out += fmt::format(" `{}` |", key);
    }
    out += fmt::format(" {} | PnL | Sharpe | max drawdown | fills |\n|---:|---:|", label);
    for (std::size_t i = 0; i < h.keys.size(); ++i) {
        out += "---|";
    }
    out += "---:|---:|---:|---:|---:|\n";
    const auto order = rank(results);
    for (std::size_t r = 0; r < order.size() && r < max_rows; ++r) {
        const auto& row = results.rows[order[r]];
        out += fmt::format("| {} | {} |", r + 1, row.index);
        for (const auto& key : h.keys) {
            out += fmt::format(" {} |", value_of(row, key));
        }
        const auto pm = [&](std::size_t m) {
            return fmt::format("{} ± {}", markdown_number(row.stats[m].mean),
                               markdown_number(row.stats[m].stddev));
        };
        const std::size_t one = metric_index(h.goal.metric());
        const std::string goal_text =
            one < defs.size() ? pm(one) : markdown_number(h.goal.value(row.stats));
        out += fmt::format(" {} | {} | {} | {} | {} |\n", goal_text, pm(pnl),
                           markdown_number(row.stats[sharpe].mean), pm(dd),
                           markdown_number(row.stats[fills].mean));
    }
    if (order.size() > max_rows) {
        out += fmt::format("\n{} more trials in trials.csv.\n", order.size() - max_rows);
    }
    return out;
}

std::string walk_forward_markdown(const results_file& train, const results_file& test) {
    const auto& h = train.header;
    const auto defs = metric_defs();
    const std::string label = objective_label(h.goal);
    std::string out = fmt::format(
        "# Walk-forward\n\nThe best {} trials by {} on the training units, each run again on "
        "the test units. Mean ± sd over the units.\n\n| train rank | trial |",
        train.rows.size(),
        h.goal.metric().empty() ? fmt::format("the objective `{}`", to_string(h.goal))
                                : "mean " + label);
    for (const auto& key : h.keys) {
        out += fmt::format(" `{}` |", key);
    }
    out += fmt::format(" {0} train | {0} test | PnL train | PnL test | Sharpe train | Sharpe test "
                       "| max DD train | max DD test |\n|---:|---:|",
                       label);
    for (std::size_t i = 0; i < h.keys.size(); ++i) {
        out += "---|";
    }
    out += "---:|---:|---:|---:|---:|---:|---:|---:|\n";
    const auto pm = [](const trial_row& row, std::size_t m) {
        if (row.stats.size() <= m) {
            return std::string("-");
        }
        return fmt::format("{} ± {}", markdown_number(row.stats[m].mean),
                           markdown_number(row.stats[m].stddev));
    };
    const std::size_t pnl = metric_index("total_pnl");
    const std::size_t sharpe = metric_index("sharpe");
    const std::size_t dd = metric_index("max_drawdown");
    const std::size_t one = metric_index(h.goal.metric());
    const auto goal = [&](const trial_row& row) {
        if (one < defs.size()) {
            return pm(row, one);
        }
        return row.stats.size() == defs.size() ? markdown_number(h.goal.value(row.stats))
                                               : std::string("-");
    };
    for (std::size_t i = 0; i < train.rows.size() && i < test.rows.size(); ++i) {
        const auto& a = train.rows[i];
        const auto& b = test.rows[i];
        out += fmt::format("| {} | {} |", i + 1, a.index);
        for (const auto& key : h.keys) {
            out += fmt::format(" {} |", value_of(a, key));
        }
        out +=
            fmt::format(" {} | {} | {} | {} | {} | {} | {} | {} |\n", goal(a), goal(b), pm(a, pnl),
                        pm(b, pnl), pm(a, sharpe), pm(b, sharpe), pm(a, dd), pm(b, dd));
    }
    return out;
}

namespace {

double mean_of(const trial_row& row, std::size_t metric) {
    return metric < row.stats.size() ? row.stats[metric].mean : std::nan("");
}

double goal_of(const objective& goal, const trial_row& row) {
    return row.stats.size() == metric_defs().size() ? goal.value(row.stats) : std::nan("");
}

std::string percent_range(double lo, double hi) {
    return fmt::format("{:.1f}–{:.1f} %", 100.0 * lo, 100.0 * hi);
}

} // namespace

walk_forward_summary summarize(const walk_forward_folds& walk) {
    walk_forward_summary out;
    const std::size_t pnl = metric_index("total_pnl");
    const std::size_t sharpe = metric_index("sharpe");
    const std::size_t dd = metric_index("max_drawdown");
    const std::size_t fills = metric_index("fills");
    const double n = static_cast<double>(walk.folds.size());
    if (walk.folds.empty()) {
        return out;
    }
    double train_pnl = 0.0;
    std::size_t sharpe_folds = 0;
    double train_time = 0.0;
    double test_time = 0.0;
    for (std::size_t k = 0; k < walk.folds.size(); ++k) {
        const auto& fold = walk.folds[k];
        out.test_objective_mean += goal_of(walk.goal, fold.test) / n;
        out.train_objective_mean += goal_of(walk.goal, fold.train) / n;
        out.oos_pnl += mean_of(fold.test, pnl);
        out.oos_fills += mean_of(fold.test, fills);
        if (!std::isnan(mean_of(fold.test, sharpe))) {
            out.mean_sharpe += mean_of(fold.test, sharpe);
            ++sharpe_folds;
        }
        out.worst_drawdown = std::max(out.worst_drawdown, mean_of(fold.test, dd));
        out.profitable_folds += mean_of(fold.test, pnl) > 0.0 ? 1 : 0;
        out.changes += k > 0 && fold.train.parameters != walk.folds[k - 1].train.parameters ? 1 : 0;
        train_pnl += mean_of(fold.train, pnl);
        train_time += fold.window.train_hi - fold.window.train_lo;
        test_time += fold.window.test_hi - fold.window.test_lo;
    }
    out.mean_sharpe =
        sharpe_folds != 0 ? out.mean_sharpe / static_cast<double>(sharpe_folds) : std::nan("");
    double spread = 0.0;
    for (const auto& fold : walk.folds) {
        const double d = goal_of(walk.goal, fold.test) - out.test_objective_mean;
        spread += d * d;
    }
    out.test_objective_sd = walk.folds.size() > 1 ? std::sqrt(spread / (n - 1.0)) : 0.0;
    out.efficiency = train_pnl > 0.0 && test_time > 0.0
                         ? (out.oos_pnl / test_time) / (train_pnl / train_time)
                         : std::nan("");
    return out;
}

std::string walk_forward_markdown(const walk_forward_folds& walk) {
    const std::string label = objective_label(walk.goal);
    const std::size_t pnl = metric_index("total_pnl");
    const std::size_t sharpe = metric_index("sharpe");
    const std::size_t dd = metric_index("max_drawdown");
    const std::size_t fills = metric_index("fills");
    std::string out = fmt::format(
        "# Walk-forward\n\n{} {} folds over {}: each fold's window is {:g} % training and "
        "{:g} % test; the test windows follow each other to the end of each capture's time"
        "{}. On each fold the trials are ranked by {} on the training window and the best is "
        "run on the test window, which the ranking never saw. Mean over the units.\n\n"
        "| fold | train window | test window | trial |",
        walk.folds.size(), walk.anchored ? "anchored" : "rolling", walk.unit_names,
        100.0 * walk.split, 100.0 * (1.0 - walk.split),
        walk.anchored ? " and every training window starts at the beginning" : "",
        walk.goal.metric().empty() ? fmt::format("the objective `{}`", to_string(walk.goal))
                                   : "mean " + label);
    for (const auto& key : walk.keys) {
        out += fmt::format(" `{}` |", key);
    }
    out += fmt::format(" {0} train | {0} test | PnL train | PnL test | Sharpe test | max DD test "
                       "| fills test |\n|---:|---|---|---:|",
                       label);
    for (std::size_t i = 0; i < walk.keys.size(); ++i) {
        out += "---|";
    }
    out += "---:|---:|---:|---:|---:|---:|---:|\n";
    for (std::size_t k = 0; k < walk.folds.size(); ++k) {
        const auto& fold = walk.folds[k];
        out +=
            fmt::format("| {} | {} | {} | {} |", k + 1,
                        percent_range(fold.window.train_lo, fold.window.train_hi),
                        percent_range(fold.window.test_lo, fold.window.test_hi), fold.train.index);
        for (const auto& key : walk.keys) {
            out += fmt::format(" {} |", value_of(fold.train, key));
        }
        out += fmt::format(
            " {} | {} | {} | {} | {} | {} | {} |\n",
            markdown_number(goal_of(walk.goal, fold.train)),
            markdown_number(goal_of(walk.goal, fold.test)),
            markdown_number(mean_of(fold.train, pnl)), markdown_number(mean_of(fold.test, pnl)),
            markdown_number(mean_of(fold.test, sharpe)), markdown_number(mean_of(fold.test, dd)),
            markdown_number(mean_of(fold.test, fills)));
    }
    const auto sum = summarize(walk);
    out += fmt::format(
        "\n## Out of sample\n\n"
        "| | |\n|---|---:|\n"
        "| {0} test, mean over folds | {1} ± {2} |\n"
        "| {0} train, mean over folds | {3} |\n"
        "| PnL of the test windows end to end | {4} |\n"
        "| folds with a positive test PnL | {5} of {6} |\n"
        "| mean test Sharpe (folds where it is defined) | {7} |\n"
        "| worst test max drawdown | {8} |\n"
        "| test fills | {9} |\n"
        "| walk-forward efficiency (test PnL per unit of time / train PnL per unit of time) "
        "| {10} |\n"
        "| folds choosing other parameters than the fold before | {11} of {12} |\n",
        label, markdown_number(sum.test_objective_mean), markdown_number(sum.test_objective_sd),
        markdown_number(sum.train_objective_mean), markdown_number(sum.oos_pnl),
        sum.profitable_folds, walk.folds.size(), markdown_number(sum.mean_sharpe),
        markdown_number(sum.worst_drawdown), markdown_number(sum.oos_fills),
        markdown_number(sum.efficiency), sum.changes,
        walk.folds.empty() ? 0 : walk.folds.size() - 1);
    return out;
}

std::string walk_forward_json(const walk_forward_folds& walk) {
    const auto defs = metric_defs();
    const auto means = [&](const trial_row& row) {
        std::string out = "{";
        for (std::size_t m = 0; m < defs.size(); ++m) {
            out += fmt::format("{}\"{}\": {}", m == 0 ? "" : ", ", defs[m].name,
                               json_number(mean_of(row, m)));
        }
        return out + "}";
    };
    std::string out = fmt::format(
        "{{\n  \"mode\": \"{}\",\n  \"folds\": {},\n  \"split\": {},\n  \"objective\": {},\n"
        "  \"units\": {},\n  \"keys\": [",
        walk.anchored ? "anchored" : "rolling", walk.folds.size(), json_number(walk.split),
        json_string(to_string(walk.goal)), json_string(walk.unit_names));
    for (std::size_t i = 0; i < walk.keys.size(); ++i) {
        out += fmt::format("{}{}", i == 0 ? "" : ", ", json_string(walk.keys[i]));
    }
    out += "],\n  \"fold_results\": [";
    for (std::size_t k = 0; k < walk.folds.size(); ++k) {
        const auto& fold = walk.folds[k];
        out += fmt::format(
            "{}\n    {{\"fold\": {}, \"train_window\": [{}, {}], \"test_window\": [{}, {}], "
            "\"trials_ranked\": {}, \"trial\": {}, \"parameters\": {{",
            k == 0 ? "" : ",", k + 1, json_number(fold.window.train_lo),
            json_number(fold.window.train_hi), json_number(fold.window.test_lo),
            json_number(fold.window.test_hi), fold.trials_ranked, fold.train.index);
        for (std::size_t i = 0; i < fold.train.parameters.size(); ++i) {
            const auto& p = fold.train.parameters[i];
            out += fmt::format("{}{}: {}", i == 0 ? "" : ", ", json_string(p.key),
                               json_string(p.value));
        }
        out += fmt::format(
            "}},\n     \"train\": {{\"objective\": {}, \"units\": {}, \"mean\": {}}},\n"
            "     \"test\": {{\"objective\": {}, \"units\": {}, \"mean\": {}}}}}",
            json_number(goal_of(walk.goal, fold.train)), fold.train.units, means(fold.train),
            json_number(goal_of(walk.goal, fold.test)), fold.test.units, means(fold.test));
    }
    const auto sum = summarize(walk);
    out += fmt::format(
        "\n  ],\n  \"out_of_sample\": {{\"test_objective_mean\": {}, \"test_objective_sd\": {}, "
        "\"train_objective_mean\": {}, \"pnl\": {}, \"fills\": {}, \"mean_sharpe\": {}, "
        "\"worst_max_drawdown\": {}, \"profitable_folds\": {}, \"parameter_changes\": {}, "
        "\"efficiency\": {}}}\n}}\n",
        json_number(sum.test_objective_mean), json_number(sum.test_objective_sd),
        json_number(sum.train_objective_mean), json_number(sum.oos_pnl), json_number(sum.oos_fills),
        json_number(sum.mean_sharpe), json_number(sum.worst_drawdown), sum.profitable_folds,
        sum.changes, json_number(sum.efficiency));
    return out;
}

core::result<std::string, std::string> apply_parameters(std::string_view config_text,
                                                        std::span<const parameter> parameters) {
    toml::table root;
    try {
        root = toml::parse(config_text);
    } catch (const toml::parse_error& failure) {
        return core::unexpected{fmt::format("configuration: {}", failure.description())};
    }
    root.erase("sweep");
    for (const auto& p : parameters) {
        toml::table value_holder;
        try {
            value_holder = toml::parse(std::string("v = ").append(p.value));
        } catch (const toml::parse_error&) {
            value_holder.insert_or_assign("v", p.value); // a bare string, as the sweep read it
        }
        std::vector<std::string> parts;
        std::istringstream stream(p.key);
        for (std::string part; std::getline(stream, part, '.');) {
            parts.push_back(part);
        }
        // The profile overlays must not override the chosen value.
        if (auto* profiles = root["profile"].as_table()) {
            for (auto& [name, profile] : *profiles) {
                toml::node* at = &profile;
                for (std::size_t i = 0; at != nullptr && i + 1 < parts.size(); ++i) {
                    auto* table = at->as_table();
                    at = table != nullptr ? table->get(parts[i]) : nullptr;
                }
                if (at != nullptr && at->is_table()) {
                    at->as_table()->erase(parts.back());
                }
            }
        }
        toml::table* table = &root;
        for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
            if (!table->contains(parts[i])) {
                table->insert(parts[i], toml::table{});
            }
            table = table->get(parts[i])->as_table();
            if (table == nullptr) {
                return core::unexpected{fmt::format("{}: {} is not a table", p.key, parts[i])};
            }
        }
        table->insert_or_assign(parts.back(), *value_holder.get("v"));
    }
    std::ostringstream out;
    out << toml::toml_formatter(root);
    return out.str() + '\n';
}

core::result<std::vector<std::filesystem::path>, std::string>
write_report(const std::filesystem::path& out_dir, const results_file& results) {
    std::error_code error;
    std::filesystem::create_directories(out_dir, error);
    if (error) {
        return core::unexpected{fmt::format("{}: {}", out_dir.string(), error.message())};
    }
    std::vector<std::pair<std::string, std::string>> files;
    files.emplace_back("trials.csv", trials_csv(results));
    files.emplace_back("trials.json", trials_json(results));
    files.emplace_back("ranking.md", ranking_markdown(results, 100));
    files.emplace_back("report.html", report_html(results));
    const auto order = rank(results);
    if (!order.empty()) {
        const auto& best = results.rows[order.front()];
        auto text = apply_parameters(results.header.config_text, best.parameters);
        if (!text) {
            return core::unexpected{text.error()};
        }
        std::string header =
            fmt::format("# The best trial ({}) of a quoter sweep of {} by mean {}:\n", best.index,
                        results.header.config_name, to_string(results.header.goal));
        for (const auto& p : best.parameters) {
            header += fmt::format("#   {} = {}\n", p.key, p.value);
        }
        header += "# Relative paths in it are relative to the original configuration file.\n\n";
        files.emplace_back("best.toml", header + *text);
    } else {
        std::filesystem::remove(out_dir / "best.toml", error);
    }
    std::vector<std::filesystem::path> written;
    for (const auto& [name, text] : files) {
        const auto path = out_dir / name;
        if (!write_file(path, text)) {
            return core::unexpected{fmt::format("{}: cannot be written", path.string())};
        }
        written.push_back(path);
    }
    return written;
}

} // namespace quoter::research
