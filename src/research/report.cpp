// The sweep report: trials.csv, trials.json, ranking.md, best.toml (report.html is in
// report_html.cpp).
#include "quoter/research/results.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

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
