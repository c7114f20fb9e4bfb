#include "quoter/md/capture.hpp"

#include "md/test_support.hpp"

#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

using namespace quoter;
using namespace quoter::md;

namespace {

constexpr core::timestamp_ns hour_ns = 3600 * core::ns_per_s;
// 2024-08-08 23:30:00 UTC
constexpr core::timestamp_ns start_ns = 1723159800LL * core::ns_per_s;

std::vector<std::string> sorted_files(const std::filesystem::path& dir) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace

TEST_CASE("capture lines split into time and message", "[capture]") {
    capture_line line;
    REQUIRE(split_capture_line(R"(1723161253937085768 {"a":1})", line));
    CHECK(line.local_ns == 1723161253937085768LL);
    CHECK(line.json == R"({"a":1})");
    CHECK_FALSE(split_capture_line(R"({"a":1})", line));
    CHECK_FALSE(split_capture_line("12x4 {}", line));
    CHECK_FALSE(split_capture_line(" {}", line));
    REQUIRE(split_capture_line("5 {}\r", line));
    CHECK(line.json == "{}");
}

TEST_CASE("writer and reader round-trip lines across hourly files", "[capture]") {
    const auto dir = testing::temp_dir("capture");
    std::vector<std::pair<core::timestamp_ns, std::string>> written;
    {
        gzip_line_writer writer({.directory = dir.string(), .prefix = "spot-btcusdt"});
        CHECK(writer.path_for(start_ns) == dir.string() + "/spot-btcusdt-20240808-23.gz");
        for (int i = 0; i < 3000; ++i) {
            const core::timestamp_ns ts = start_ns + i * (hour_ns / 1000); // spans 3 hours
            std::string json = R"({"stream":"btcusdt@trade","data":{"t":)" + std::to_string(i) +
                               R"(,"pad":")" + std::string(static_cast<std::size_t>(i % 97), 'x') +
                               "\"}}";
            REQUIRE(writer.write(ts, json).has_value());
            written.emplace_back(ts, std::move(json));
        }
        REQUIRE(writer.flush().has_value());
        CHECK(writer.files().size() == 4); // 23:30 .. 02:29 touches four hours
        CHECK(writer.current_path() == dir.string() + "/spot-btcusdt-20240809-02.gz");
    }
    const auto files = sorted_files(dir);
    REQUIRE(files.size() == 4);
    CHECK(files[0].ends_with("spot-btcusdt-20240808-23.gz"));
    CHECK(files[1].ends_with("spot-btcusdt-20240809-00.gz"));

    // Small chunks: lines straddle refills; inflated inline and on the helper thread alike.
    const inflate_mode mode = GENERATE(inflate_mode::inline_, inflate_mode::ahead);
    gzip_line_reader reader(4096, mode);
    std::size_t index = 0;
    for (const auto& file : files) {
        REQUIRE(reader.open(file).has_value());
        capture_line line;
        while (reader.next(line)) {
            REQUIRE(index < written.size());
            CHECK(line.local_ns == written[index].first);
            CHECK(line.json == written[index].second);
            CHECK(line.capacity >= line.json.size() + message_padding);
            // Every line of a file lies inside that file's hour.
            CHECK(line.local_ns / hour_ns == written[index].first / hour_ns);
            ++index;
        }
        CHECK(reader.error() == capture_error::none);
    }
    CHECK(index == written.size());
    std::filesystem::remove_all(dir);
}

TEST_CASE("a restarted writer appends to the hour's file", "[capture]") {
    const auto dir = testing::temp_dir("capture-append");
    for (int run = 0; run < 2; ++run) {
        gzip_line_writer writer({.directory = dir.string(), .prefix = "p"});
        REQUIRE(writer.write(start_ns + run, "{\"run\":" + std::to_string(run) + "}").has_value());
    }
    const auto files = sorted_files(dir);
    REQUIRE(files.size() == 1);
    gzip_line_reader reader;
    REQUIRE(reader.open(files[0]).has_value());
    capture_line line;
    REQUIRE(reader.next(line));
    CHECK(line.json == R"({"run":0})");
    REQUIRE(reader.next(line));
    CHECK(line.json == R"({"run":1})");
    CHECK_FALSE(reader.next(line));
    std::filesystem::remove_all(dir);
}

TEST_CASE("the reader handles long lines, a missing final newline and bad lines", "[capture]") {
    const auto dir = testing::temp_dir("capture-long");
    const std::string path = (dir / "long.gz").string();
    const std::string long_json = "{\"x\":\"" + std::string(200000, 'y') + "\"}";
    {
        gzFile file = gzopen(path.c_str(), "wb");
        REQUIRE(file != nullptr);
        const std::string text =
            "1 {}\nnot a capture line\n2 " + long_json + "\n\n3 {\"last\":true}";
        REQUIRE(gzwrite(file, text.data(), static_cast<unsigned>(text.size())) ==
                static_cast<int>(text.size()));
        gzclose(file);
    }
    const inflate_mode mode = GENERATE(inflate_mode::inline_, inflate_mode::ahead);
    gzip_line_reader reader(4096, mode);
    REQUIRE(reader.open(path).has_value());
    capture_line line;
    REQUIRE(reader.next(line));
    CHECK(line.local_ns == 1);
    REQUIRE(reader.next(line));
    CHECK(line.local_ns == 2);
    CHECK(line.json == long_json);
    REQUIRE(reader.next(line));
    CHECK(line.local_ns == 3);
    CHECK(line.json == R"({"last":true})");
    CHECK(line.capacity >= line.json.size() + message_padding);
    CHECK_FALSE(reader.next(line));
    CHECK(reader.bad_lines() == 1);
    CHECK(reader.error() == capture_error::none);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a corrupt or missing file is an error, not a crash", "[capture]") {
    const auto dir = testing::temp_dir("capture-corrupt");
    const inflate_mode mode = GENERATE(inflate_mode::inline_, inflate_mode::ahead);
    gzip_line_reader reader(std::size_t{1} << 18U, mode);
    CHECK(reader.open((dir / "missing.gz").string()).error() == capture_error::not_found);

    const std::string path = (dir / "cut.gz").string();
    {
        gzip_line_writer writer({.directory = dir.string(), .prefix = "cut"});
        for (int i = 0; i < 2000; ++i) {
            REQUIRE(writer.write(start_ns, "{\"i\":" + std::to_string(i * 7919) + "}").has_value());
        }
        writer.close();
        const auto files = sorted_files(dir);
        REQUIRE(files.size() == 1);
        const auto size = std::filesystem::file_size(files[0]);
        std::filesystem::copy_file(files[0], path);
        std::filesystem::resize_file(path, size / 2);
    }
    REQUIRE(reader.open(path).has_value());
    capture_line line;
    std::size_t lines = 0;
    while (reader.next(line)) {
        ++lines;
    }
    CHECK(lines < 2000);
    CHECK(reader.error() == capture_error::read_failed);

    gzip_line_writer unwritable({.directory = (dir / "no" / "such").string(), .prefix = "x"});
    CHECK(unwritable.write(start_ns, "{}").error() == capture_error::open_failed);
    std::filesystem::remove_all(dir);
}

TEST_CASE("capture timestamps of any width split like from_chars reads them", "[capture]") {
    capture_line line;
    REQUIRE(split_capture_line("9223372036854775807 {}", line));
    CHECK(line.local_ns == 9223372036854775807LL);
    CHECK_FALSE(split_capture_line("9223372036854775808 {}", line)); // beyond int64
    CHECK_FALSE(split_capture_line("99999999999999999999 {}", line));
    REQUIRE(split_capture_line("000000000000000000000042 {}", line)); // leading zeros
    CHECK(line.local_ns == 42);
    REQUIRE(split_capture_line("-5 {}", line));
    CHECK(line.local_ns == -5);
    REQUIRE(split_capture_line("0 x", line));
    CHECK(line.local_ns == 0);
    CHECK(line.json == "x");
    CHECK_FALSE(split_capture_line("1723161253937085768", line)); // no space
    CHECK_FALSE(split_capture_line("17231612539370857680000{}", line));
    CHECK_FALSE(split_capture_line("+5 {}", line));
    CHECK_FALSE(split_capture_line("", line));
}

TEST_CASE("capture timestamps split like from_chars on random lines", "[capture]") {
    // Mostly 19-digit stamps (the word-wise path) with a character changed now and then, and
    // other widths; the reference is from_chars over the text before the first space.
    std::mt19937_64 rng(5);
    const std::string_view alphabet = "0123456789 -+x/:";
    std::size_t accepted = 0;
    for (int round = 0; round < 200'000; ++round) {
        std::string text;
        const std::size_t width = rng() % 3 == 0 ? rng() % 24 : 19;
        for (std::size_t i = 0; i < width; ++i) {
            text +=
                static_cast<char>(i == 0 && rng() % 2 == 0 ? '1' + rng() % 9 : '0' + rng() % 10);
        }
        if (rng() % 4 == 0 && !text.empty()) {
            text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
        }
        text += rng() % 8 == 0 ? "" : " {\"a\":1}";
        std::int64_t expected = 0;
        const std::size_t space = text.find(' ');
        bool valid = space != std::string::npos && space != 0;
        if (valid) {
            const auto [end, ec] = std::from_chars(text.data(), text.data() + space, expected);
            valid = ec == std::errc{} && end == text.data() + space;
        }
        capture_line line;
        INFO(text);
        REQUIRE(split_capture_line(text, line) == valid);
        if (valid) {
            ++accepted;
            REQUIRE(line.local_ns == expected);
            REQUIRE(line.json == std::string_view(text).substr(space + 1));
        }
    }
    CHECK(accepted > 100'000);
}
