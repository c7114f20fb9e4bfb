// Sweep specs: parsing the command-line forms and the [sweep] table, expanding to trials.
#include "quoter/research/sweep.hpp"

#include "quoter/core/quoted_string.hpp"
#include "quoter/sim/random.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace quoter::research {
namespace {

constexpr std::size_t max_trials = 10'000'000;

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    for (;;) {
        const auto at = text.find(separator);
        parts.push_back(trim(text.substr(0, at)));
        if (at == std::string_view::npos) {
            return parts;
        }
        text.remove_prefix(at + 1);
    }
}

/// "key=rest" -> key and rest; the key must look like a dotted config key.
core::result<std::pair<std::string, std::string_view>, std::string>
split_key(std::string_view text, std::string_view form) {
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) {
        return core::unexpected{fmt::format("{}: expected {}", text, form)};
    }
    const std::string_view key = trim(text.substr(0, equals));
    const bool valid_key =
        !key.empty() && key.front() != '.' && key.back() != '.' &&
        std::all_of(key.begin(), key.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        });
    if (!valid_key) {
        return core::unexpected{
            fmt::format("{}: expected {} with a dotted configuration key", text, form)};
    }
    return std::pair{std::string(key), trim(text.substr(equals + 1))};
}

bool is_integer_text(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc{} && end == text.data() + text.size();
}

std::optional<double> to_number(std::string_view text) {
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

/// A float as a TOML float literal that reads back as the same double.
std::string float_text(double value) {
    std::string text = fmt::format("{}", value);
    if (text.find_first_of(".eEn") == std::string::npos) {
        text += ".0";
    }
    return text;
}

std::string quote(std::string_view text) {
    std::string out;
    core::append_quoted(out, text);
    return out;
}

/// A TOML node as value text; nullopt for tables and date-times.
std::optional<std::string> value_text(const toml::node& node) {
    if (const auto* v = node.as_integer()) {
        return fmt::format("{}", v->get());
    }
    if (const auto* v = node.as_floating_point()) {
        return float_text(v->get());
    }
    if (const auto* v = node.as_boolean()) {
        return std::string(v->get() ? "true" : "false");
    }
    if (const auto* v = node.as_string()) {
        return quote(v->get());
    }
    if (const auto* v = node.as_array()) {
        std::string out = "[";
        for (std::size_t i = 0; i < v->size(); ++i) {
            const auto element = value_text(*v->get(i));
            if (!element) {
                return std::nullopt;
            }
            out += i == 0 ? "" : ", ";
            out += *element;
        }
        return out + "]";
    }
    return std::nullopt;
}

std::optional<double> number_of(const toml::node& node) {
    if (const auto* v = node.as_integer()) {
        return static_cast<double>(v->get());
    }
    if (const auto* v = node.as_floating_point()) {
        return std::isfinite(v->get()) ? std::optional(v->get()) : std::nullopt;
    }
    return std::nullopt;
}

core::result<grid_axis, std::string> make_range(std::string key, std::string_view lo_text,
                                                std::string_view hi_text,
                                                std::string_view step_text) {
    const auto lo = to_number(lo_text);
    const auto hi = to_number(hi_text);
    const auto step = to_number(step_text);
    if (!lo || !hi || !step) {
        return core::unexpected{
            fmt::format("{}: range bounds and step must be finite numbers", key)};
    }
    if (*step <= 0.0 || *hi < *lo) {
        return core::unexpected{fmt::format("{}: a range needs lo <= hi and step > 0", key)};
    }
    const double steps = std::floor((*hi - *lo) / *step + 1e-9);
    if (steps + 1 > static_cast<double>(max_trials)) {
        return core::unexpected{fmt::format("{}: the range has too many values", key)};
    }
    const bool integer =
        is_integer_text(lo_text) && is_integer_text(hi_text) && is_integer_text(step_text);
    grid_axis axis{std::move(key), {}};
    for (std::size_t i = 0; i <= static_cast<std::size_t>(steps); ++i) {
        const double value = *lo + static_cast<double>(i) * *step;
        if (integer) {
            axis.values.push_back(
                fmt::format("{}", static_cast<std::int64_t>(std::llround(value))));
        } else {
            // 12 significant digits hide the binary residue of lo + i * step (0.30000000000000004).
            axis.values.push_back(float_text(std::stod(fmt::format("{:.12g}", value))));
        }
    }
    return axis;
}

core::result<random_axis, std::string> make_random(std::string key, std::string_view lo_text,
                                                   std::string_view hi_text) {
    const auto lo = to_number(lo_text);
    const auto hi = to_number(hi_text);
    if (!lo || !hi || *hi < *lo) {
        return core::unexpected{
            fmt::format("{}: random bounds must be finite numbers with lo <= hi", key)};
    }
    return random_axis{std::move(key), *lo, *hi,
                       is_integer_text(lo_text) && is_integer_text(hi_text)};
}

} // namespace

core::result<grid_axis, std::string> parse_set(std::string_view text) {
    auto split_at = split_key(text, "key=v1,v2,...");
    if (!split_at) {
        return core::unexpected{split_at.error()};
    }
    grid_axis axis{std::move(split_at->first), {}};
    for (const auto value : split(split_at->second, ',')) {
        if (value.empty()) {
            return core::unexpected{fmt::format("{}: empty value in the list", text)};
        }
        axis.values.emplace_back(value);
    }
    return axis;
}

core::result<grid_axis, std::string> parse_range(std::string_view text) {
    auto split_at = split_key(text, "key=lo:hi:step");
    if (!split_at) {
        return core::unexpected{split_at.error()};
    }
    const auto parts = split(split_at->second, ':');
    if (parts.size() != 3) {
        return core::unexpected{fmt::format("{}: expected key=lo:hi:step", text)};
    }
    return make_range(std::move(split_at->first), parts[0], parts[1], parts[2]);
}

core::result<random_axis, std::string> parse_random(std::string_view text) {
    auto split_at = split_key(text, "key=lo:hi");
    if (!split_at) {
        return core::unexpected{split_at.error()};
    }
    const auto parts = split(split_at->second, ':');
    if (parts.size() != 2) {
        return core::unexpected{fmt::format("{}: expected key=lo:hi", text)};
    }
    return make_random(std::move(split_at->first), parts[0], parts[1]);
}

core::result<shard, std::string> parse_shard(std::string_view text) {
    const auto parts = split(text, '/');
    std::size_t index = 0;
    std::size_t count = 0;
    const auto number = [](std::string_view s, std::size_t& out) {
        const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), out);
        return error == std::errc{} && end == s.data() + s.size();
    };
    if (parts.size() != 2 || !number(parts[0], index) || !number(parts[1], count) || count == 0 ||
        index >= count) {
        return core::unexpected{
            fmt::format("--shard {}: expected K/N with 0 <= K < N (K counts from 0)", text)};
    }
    return shard{index, count};
}

core::result<sweep_spec, std::vector<std::string>>
read_sweep_table(const std::filesystem::path& config_file) {
    toml::table root;
    try {
        root = toml::parse_file(config_file.string());
    } catch (const toml::parse_error& failure) {
        return core::unexpected{std::vector<std::string>{
            fmt::format("{}: TOML syntax error: {}", config_file.string(), failure.description())}};
    }
    sweep_spec spec;
    std::vector<std::string> problems;
    const toml::table* table = root["sweep"].as_table();
    if (table == nullptr) {
        if (root.contains("sweep")) {
            problems.push_back(
                fmt::format("{}: sweep: expected a table [sweep]", config_file.string()));
            return core::unexpected{std::move(problems)};
        }
        return spec;
    }
    const auto where = [&](std::string_view key) {
        return fmt::format("{}: sweep.{}", config_file.string(), key);
    };
    const auto pairs = [&](std::string_view name, std::size_t size, auto&& take) {
        const toml::node* node = table->get(name);
        if (node == nullptr) {
            return;
        }
        const toml::table* sub = node->as_table();
        if (sub == nullptr) {
            problems.push_back(fmt::format("{}: expected a table", where(name)));
            return;
        }
        for (const auto& [key, value] : *sub) {
            const std::string full = fmt::format("{}.\"{}\"", name, key.str());
            const toml::array* list = value.as_array();
            if (list == nullptr || (size != 0 && list->size() != size) || list->empty()) {
                problems.push_back(fmt::format("{}: expected {}", where(full),
                                               size == 0
                                                   ? std::string("a non-empty array of values")
                                                   : fmt::format("an array of {} numbers", size)));
                continue;
            }
            take(std::string(key.str()), *list, full);
        }
    };
    for (const auto& [key, value] : *table) {
        const std::string_view name = key.str();
        if (name == "paths" || name == "seed" || name == "trials" || name == "folds") {
            const auto* integer = value.as_integer();
            if (integer == nullptr || integer->get() < 0) {
                problems.push_back(fmt::format("{}: expected a non-negative integer", where(name)));
                continue;
            }
            const auto n = static_cast<std::uint64_t>(integer->get());
            if (name == "paths") {
                spec.paths = n;
                spec.paths_set = true;
            } else if (name == "seed") {
                spec.seed = n;
                spec.seed_set = true;
            } else if (name == "folds") {
                spec.folds = n;
            } else {
                spec.trials = n;
            }
        } else if (name == "split") {
            const auto share = number_of(value);
            if (!share || !(*share > 0.0 && *share < 1.0)) {
                problems.push_back(fmt::format(
                    "{}: expected the training share of a capture's time, a number in (0, 1)",
                    where(name)));
                continue;
            }
            spec.split = *share;
        } else if (name == "anchored") {
            const auto* flag = value.as_boolean();
            if (flag == nullptr) {
                problems.push_back(fmt::format("{}: expected true or false", where(name)));
                continue;
            }
            spec.anchored = flag->get();
        } else if (name == "objective") {
            const auto* text = value.as_string();
            auto parsed = text != nullptr ? parse_objective(text->get())
                                          : core::result<objective, std::string>(
                                                core::unexpected{std::string("expected a string")});
            if (!parsed) {
                problems.push_back(fmt::format("{}: {}", where(name), parsed.error()));
            } else {
                spec.goal = *parsed;
            }
        } else if (name == "data") {
            const auto* list = value.as_array();
            if (list == nullptr || !list->is_homogeneous(toml::node_type::string)) {
                problems.push_back(fmt::format("{}: expected an array of file names", where(name)));
                continue;
            }
            for (const auto& file : *list) {
                const std::filesystem::path path(file.as_string()->get());
                spec.data.push_back(path.is_absolute()
                                        ? path.string()
                                        : (config_file.parent_path() / path).string());
            }
        } else if (name != "set" && name != "range" && name != "random") {
            problems.push_back(fmt::format(
                "{}: unknown key; [sweep] has paths, seed, trials, objective, data, split, folds, "
                "anchored, [sweep.set], [sweep.range], [sweep.random]",
                where(name)));
        }
    }
    pairs("set", 0, [&](std::string key, const toml::array& list, const std::string& full) {
        grid_axis axis{std::move(key), {}};
        for (const auto& element : list) {
            const auto text = value_text(element);
            if (!text) {
                problems.push_back(fmt::format("{}: values must be TOML values", where(full)));
                return;
            }
            axis.values.push_back(*text);
        }
        set_axis(spec, std::move(axis));
    });
    const auto numbers = [&](const toml::array& list, const std::string& full) {
        std::vector<std::string> texts;
        for (const auto& element : list) {
            if (!number_of(element)) {
                problems.push_back(fmt::format("{}: expected numbers", where(full)));
                return std::vector<std::string>{};
            }
            texts.push_back(*value_text(element));
        }
        return texts;
    };
    pairs("range", 3, [&](std::string key, const toml::array& list, const std::string& full) {
        const auto texts = numbers(list, full);
        if (texts.empty()) {
            return;
        }
        auto axis = make_range(std::move(key), texts[0], texts[1], texts[2]);
        if (!axis) {
            problems.push_back(fmt::format("{}: {}", where(full), axis.error()));
        } else {
            set_axis(spec, std::move(*axis));
        }
    });
    pairs("random", 2, [&](std::string key, const toml::array& list, const std::string& full) {
        const auto texts = numbers(list, full);
        if (texts.empty()) {
            return;
        }
        auto axis = make_random(std::move(key), texts[0], texts[1]);
        if (!axis) {
            problems.push_back(fmt::format("{}: {}", where(full), axis.error()));
        } else {
            set_axis(spec, std::move(*axis));
        }
    });
    if (!problems.empty()) {
        return core::unexpected{std::move(problems)};
    }
    return spec;
}

void set_axis(sweep_spec& spec, grid_axis axis) {
    std::erase_if(spec.random, [&](const random_axis& a) { return a.key == axis.key; });
    for (auto& existing : spec.grid) {
        if (existing.key == axis.key) {
            existing = std::move(axis);
            return;
        }
    }
    spec.grid.push_back(std::move(axis));
}

void set_axis(sweep_spec& spec, random_axis axis) {
    std::erase_if(spec.grid, [&](const grid_axis& a) { return a.key == axis.key; });
    for (auto& existing : spec.random) {
        if (existing.key == axis.key) {
            existing = std::move(axis);
            return;
        }
    }
    spec.random.push_back(std::move(axis));
}

std::vector<std::string> swept_keys(const sweep_spec& spec) {
    std::vector<std::string> keys;
    for (const auto& axis : spec.grid) {
        keys.push_back(axis.key);
    }
    for (const auto& axis : spec.random) {
        keys.push_back(axis.key);
    }
    return keys;
}

std::vector<std::string> validate(const sweep_spec& spec) {
    std::vector<std::string> problems;
    if (spec.grid.empty() && spec.random.empty()) {
        problems.emplace_back("nothing to sweep: give --set, --range or --random, or a [sweep] "
                              "table with [sweep.set], [sweep.range] or [sweep.random]");
    }
    if (!spec.random.empty() && spec.trials == 0) {
        problems.emplace_back("random keys need a number of trials (--trials N or sweep.trials)");
    }
    if (spec.random.empty() && spec.trials != 0) {
        problems.emplace_back("--trials applies to random keys (--random), and none is swept");
    }
    if (spec.split != 0.0 && !(spec.split > 0.0 && spec.split < 1.0)) {
        problems.push_back(fmt::format(
            "--split {}: the share of each capture's time to train on must lie in (0, 1)",
            spec.split));
    }
    if (spec.folds == 1) {
        problems.emplace_back("--folds 1: a walk-forward needs at least 2 folds (one train/test "
                              "cut of each capture is --split alone)");
    }
    if (spec.folds > max_folds) {
        problems.push_back(fmt::format("--folds {}: at most {} folds", spec.folds, max_folds));
    }
    if (spec.anchored && spec.folds == 0) {
        problems.emplace_back("--anchored applies to walk-forward folds: give --folds N");
    }
    const bool in_time = spec.split > 0.0 || spec.folds != 0;
    const char* form = spec.folds != 0 ? "--folds" : "--split";
    if (in_time && spec.data.empty()) {
        problems.push_back(fmt::format("{} divides captures in time: give them with --data", form));
    }
    if (in_time && spec.paths != 0) {
        problems.push_back(
            fmt::format("{} ranks on windows of the captures' time: leave out --paths", form));
    }
    if (spec.paths == 0 && spec.data.empty()) {
        problems.emplace_back("each trial needs synthetic paths (--paths) or captures (--data)");
    }
    double count = spec.random.empty() ? 1.0 : static_cast<double>(spec.trials);
    for (const auto& axis : spec.grid) {
        count *= static_cast<double>(axis.values.size());
        if (axis.values.empty()) {
            problems.push_back(fmt::format("{}: no values", axis.key));
        }
    }
    if (count > static_cast<double>(max_trials)) {
        problems.push_back(
            fmt::format("{:.0f} trials is more than the {} a sweep may have", count, max_trials));
    }
    return problems;
}

std::vector<trial> expand(const sweep_spec& spec) {
    std::size_t grid_points = 1;
    for (const auto& axis : spec.grid) {
        grid_points *= axis.values.size();
    }
    const std::size_t draws = spec.random.empty() ? 1 : spec.trials;
    std::vector<trial> trials;
    trials.reserve(grid_points * draws);
    for (std::size_t point = 0; point < grid_points; ++point) {
        std::vector<parameter> fixed(spec.grid.size());
        std::size_t rest = point;
        for (std::size_t a = spec.grid.size(); a-- > 0;) { // last axis fastest
            const auto& axis = spec.grid[a];
            fixed[a] = {axis.key, axis.values[rest % axis.values.size()]};
            rest /= axis.values.size();
        }
        for (std::size_t d = 0; d < draws; ++d) {
            trial t;
            t.index = trials.size();
            t.parameters = fixed;
            for (std::size_t r = 0; r < spec.random.size(); ++r) {
                const auto& axis = spec.random[r];
                // Draw r of trial i: its own splitmix64 stream, independent of every other.
                std::uint64_t state =
                    sim::derive_path_seed(spec.seed ^ 0x5eed5eed5eed5eedULL, t.index) +
                    0x9e3779b97f4a7c15ULL * (r + 1);
                const double u =
                    static_cast<double>(sim::splitmix64(state) >> 11) * 0x1.0p-53; // [0, 1)
                std::string text;
                if (axis.integer) {
                    const double width = axis.hi - axis.lo + 1.0;
                    text = fmt::format("{}",
                                       static_cast<std::int64_t>(
                                           axis.lo + std::min(std::floor(u * width), width - 1.0)));
                } else {
                    text = float_text(
                        std::stod(fmt::format("{:.6g}", axis.lo + u * (axis.hi - axis.lo))));
                }
                t.parameters.push_back({axis.key, std::move(text)});
            }
            trials.push_back(std::move(t));
        }
    }
    return trials;
}

std::vector<fold_window> fold_windows(std::size_t folds, double split, bool anchored) {
    std::vector<fold_window> out;
    if (folds == 0 || !(split > 0.0 && split < 1.0)) {
        return out;
    }
    // One window is train + test; the folds' test windows follow each other to the end, so
    // the time is train + folds * test of one window.
    const double n = static_cast<double>(folds);
    const double window = 1.0 / (split + n * (1.0 - split));
    const double train = split * window;
    const double test = (1.0 - split) * window;
    for (std::size_t k = 0; k < folds; ++k) {
        const double shift = static_cast<double>(k) * test;
        fold_window w;
        w.train_lo = anchored ? 0.0 : shift;
        w.train_hi = train + shift;
        w.test_lo = w.train_hi;
        w.test_hi = k + 1 == folds ? 1.0 : train + shift + test;
        out.push_back(w);
    }
    return out;
}

std::vector<trial> select_shard(std::vector<trial> trials, shard part) {
    std::erase_if(trials, [&](const trial& t) { return t.index % part.count != part.index; });
    return trials;
}

std::string canonical_text(const sweep_spec& spec, std::string_view config_text,
                           std::string_view profile) {
    std::string out = "quoter-sweep 1\n";
    for (const auto& axis : spec.grid) {
        out += fmt::format("grid {} = [{}]\n", axis.key, fmt::join(axis.values, ", "));
    }
    for (const auto& axis : spec.random) {
        out += fmt::format("random {} = [{}, {}] {}\n", axis.key, float_text(axis.lo),
                           float_text(axis.hi), axis.integer ? "integer" : "float");
    }
    out += fmt::format("trials {}\npaths {}\nseed {}\nobjective {}\nprofile {}\n", spec.trials,
                       spec.paths, spec.seed, to_string(spec.goal), profile);
    for (const auto& file : spec.data) {
        out += fmt::format("data {}\n", std::filesystem::path(file).filename().string());
    }
    if (spec.split > 0.0) {
        out += fmt::format("split {}\n", float_text(spec.split));
    }
    if (spec.folds != 0) {
        out += fmt::format("folds {} {}\n", spec.folds, spec.anchored ? "anchored" : "rolling");
    }
    out += "config\n";
    out += config_text;
    return out;
}

std::string fingerprint(std::string_view canonical) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (const char c : canonical) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return fmt::format("{:016x}", hash);
}

} // namespace quoter::research
