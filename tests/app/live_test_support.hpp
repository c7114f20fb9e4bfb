// What the live end-to-end tests share (spot and USD-M futures): the venue's documented example
// key as the environment's credentials, writing a configuration, the venue's counters over its
// control endpoint, and reading counts from quoter's exit summary.
#pragma once

#include "net/venue_process.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include "quoter/net/io_loop.hpp"
#include "quoter/net/rest_client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace quoter::test::live {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using quoter::net::testing::json_int;
using quoter::net::testing::venue_process;

inline constexpr const char* api_key =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
inline constexpr const char* api_secret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

inline const std::map<std::string, std::string> credentials{{"QUOTER_API_KEY", api_key},
                                                            {"QUOTER_API_SECRET", api_secret}};

/// `quoter run --mode live` on a configuration, for at most 90 s, with the example credentials;
/// `name` labels its output files.
inline quoter::test::child_process start_live_quoter(const fs::path& config, const char* name) {
    return quoter::test::child_process(
        QUOTER_EXE, {"run", "--mode", "live", "-c", config.string(), "--duration", "90"},
        credentials, name);
}

/// Waits, at most `limit`, until quoter has written `text` to its standard error; true if so.
inline bool wait_for_err(const quoter::test::child_process& quoter, std::string_view text,
                         std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (quoter.err().find(text) == std::string::npos) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(100ms);
    }
    return true;
}

/// An amount of 1e-8 units as a decimal with eight places, as /control/balance takes it.
inline std::string decimal_e8(long long e8) {
    return std::to_string(e8 / 100'000'000) + "." +
           std::to_string(100'000'000 + e8 % 100'000'000).substr(1);
}

inline fs::path write_config(const quoter::test::temp_dir& dir, const std::string& text) {
    const fs::path path = dir.path() / "live.toml";
    std::ofstream out(path);
    out << text;
    REQUIRE(static_cast<bool>(out.flush()));
    return path;
}

/// The venue's counters, read over its control endpoint.
class venue_stats {
public:
    explicit venue_stats(const venue_process& venue) {
        quoter::net::rest_config config;
        config.base_url = venue.http_url();
        config.request_timeout_ms = 5'000;
        client_ = std::make_unique<quoter::net::rest_client>(loop_, config);
    }

    std::string read() { return control("/control/stats"); }
    /// A control request (a fault, a setting); its answer's body.
    std::string control(const std::string& target) {
        return quoter::net::testing::control(loop_, *client_, target).body;
    }
    long long get(std::string_view key) { return json_int(read(), key); }

    /// Polls until key satisfies the predicate or the limit passes; the last value.
    template <class Predicate>
    long long wait_for(std::string_view key, Predicate ok, std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        long long value = get(key);
        while (!ok(value) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(50ms);
            value = get(key);
        }
        return value;
    }

private:
    quoter::net::io_loop loop_;
    std::unique_ptr<quoter::net::rest_client> client_;
};

/// The number after `label` in the summary ("fills 12," -> 12), or -1.
inline long long summary_count(const std::string& text, const std::string& label) {
    const std::string key = "  " + label + " ";
    std::size_t at = text.find(key);
    if (at == std::string::npos) {
        at = text.find(", " + label + " ");
        if (at == std::string::npos) {
            return -1;
        }
        at += 2 + label.size() + 1;
    } else {
        at += key.size();
    }
    return std::atoll(text.c_str() + at);
}

/// The start-up reconciliation's counts from a run's log ("reconciled: F open orders found, C of
/// earlier runs cancelled"); {-1, -1} when the line is missing.
struct reconciled_counts {
    long long found = -1;
    long long cancelled = -1;
};

inline reconciled_counts reconciliation_of(const std::string& log) {
    const std::string key = "reconciled: ";
    const std::size_t at = log.find(key);
    if (at == std::string::npos) {
        return {};
    }
    reconciled_counts counts;
    counts.found = std::atoll(log.c_str() + at + key.size());
    const std::string cancelled_key = " open orders found, ";
    const std::size_t c = log.find(cancelled_key, at);
    if (c != std::string::npos) {
        counts.cancelled = std::atoll(log.c_str() + c + cancelled_key.size());
    }
    return counts;
}

/// The strings of the JSON array after "key":[ in text.
inline std::vector<std::string> json_strings(const std::string& text, const std::string& key) {
    std::vector<std::string> out;
    const std::size_t at = text.find("\"" + key + "\":[");
    if (at == std::string::npos) {
        return out;
    }
    const std::size_t end = text.find(']', at);
    std::size_t pos = text.find('[', at) + 1;
    while (pos < end) {
        const std::size_t q0 = text.find('"', pos);
        if (q0 == std::string::npos || q0 > end) {
            break;
        }
        const std::size_t q1 = text.find('"', q0 + 1);
        out.push_back(text.substr(q0 + 1, q1 - q0 - 1));
        pos = q1 + 1;
    }
    return out;
}

} // namespace quoter::test::live
