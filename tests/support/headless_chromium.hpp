// headless_chromium: pages opened the way a user opens them, in Debian's `chromium` without a
// window, for tests of the HTML the project writes. Every run is bounded in time (coreutils
// `timeout` ends the whole process group), has a fresh profile in a temp_dir, resolves no host
// name (a page that reaches for the network finds nothing), and sends no background traffic.
//
// A test that needs the browser calls require_chromium() first. When no `chromium` is on PATH:
//   - in CI the test FAILS, so that a pipeline without the browser cannot pass by skipping what it
//     was meant to check;
//   - elsewhere the test is skipped with a warning saying how to install it (tools/setup does;
//     support/ci.hpp).
#pragma once

#include "support/capture_data.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

namespace quoter::test {

/// The browser's path: the first of `chromium`, `chromium-browser` on PATH; empty when absent.
inline std::string find_chromium() {
    const char* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
    while (!dirs.empty()) {
        const auto colon = dirs.find(':');
        const std::filesystem::path dir(std::string(dirs.substr(0, colon)));
        dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
        for (const char* name : {"chromium", "chromium-browser"}) {
            const auto candidate = dir / name;
            if (::access(candidate.c_str(), X_OK) == 0) {
                return candidate.string();
            }
        }
    }
    return {};
}

/// The browser's path; without one, FAILs the test in CI, or records a skip (a warning) and
/// returns an empty string, after which the test returns.
inline std::string require_chromium() {
    std::string chromium = find_chromium();
    if (!chromium.empty()) {
        return chromium;
    }
    const std::string how = " (tools/setup installs it: apt-get install --no-install-recommends "
                            "chromium)";
    skip_unless_ci("headless chromium: no chromium on PATH, so report pages are not opened in a "
                   "browser" +
                   how);
    return {};
}

/// A file's file:// URL.
inline std::string file_url(const std::filesystem::path& file) {
    return "file://" + std::filesystem::absolute(file).lexically_normal().string();
}

/// Pixels of a screenshot, 8-bit RGB, rows top to bottom.
struct screenshot {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::vector<std::uint8_t> rgb;
};

namespace png_detail {

inline std::uint32_t big_endian(const std::string& bytes, std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at])) << 24 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
}

inline std::uint8_t paeth(int left, int up, int up_left) {
    const int estimate = left + up - up_left;
    const int to_left = std::abs(estimate - left);
    const int to_up = std::abs(estimate - up);
    const int to_up_left = std::abs(estimate - up_left);
    if (to_left <= to_up && to_left <= to_up_left) {
        return static_cast<std::uint8_t>(left);
    }
    return static_cast<std::uint8_t>(to_up <= to_up_left ? up : up_left);
}

} // namespace png_detail

/// Decodes the PNGs Chromium writes (8-bit RGB or RGBA, not interlaced); REQUIREs that shape.
inline screenshot read_png(const std::filesystem::path& file) {
    using png_detail::big_endian;
    const std::string bytes = slurp(file);
    REQUIRE(bytes.size() > 33);
    REQUIRE(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    screenshot image;
    int channels = 0;
    std::string compressed;
    for (std::size_t at = 8; at + 12 <= bytes.size();) {
        const std::uint32_t length = big_endian(bytes, at);
        const std::string type = bytes.substr(at + 4, 4);
        REQUIRE(at + 12 + length <= bytes.size());
        if (type == "IHDR") {
            image.width = big_endian(bytes, at + 8);
            image.height = big_endian(bytes, at + 12);
            const auto bit_depth = static_cast<unsigned char>(bytes[at + 16]);
            const auto colour_type = static_cast<unsigned char>(bytes[at + 17]);
            const auto interlace = static_cast<unsigned char>(bytes[at + 20]);
            INFO("bit depth " << int(bit_depth) << ", colour type " << int(colour_type)
                              << ", interlace " << int(interlace));
            REQUIRE(bit_depth == 8);
            REQUIRE((colour_type == 2 || colour_type == 6));
            REQUIRE(interlace == 0);
            channels = colour_type == 2 ? 3 : 4;
        } else if (type == "IDAT") {
            compressed += bytes.substr(at + 8, length);
        }
        at += 12 + length;
    }
    REQUIRE(channels != 0);
    const std::size_t stride = std::size_t{image.width} * static_cast<std::size_t>(channels);
    std::vector<std::uint8_t> filtered((stride + 1) * image.height);
    uLongf filtered_size = filtered.size();
    REQUIRE(uncompress(filtered.data(), &filtered_size,
                       reinterpret_cast<const Bytef*>(compressed.data()),
                       compressed.size()) == Z_OK);
    REQUIRE(filtered_size == filtered.size());

    // Undo each row's filter (PNG specification, section 9), then drop any alpha channel.
    std::vector<std::uint8_t> previous(stride, 0);
    std::vector<std::uint8_t> row(stride);
    image.rgb.reserve(std::size_t{image.width} * image.height * 3);
    for (std::uint32_t y = 0; y < image.height; ++y) {
        const std::uint8_t* in = filtered.data() + std::size_t{y} * (stride + 1);
        const int filter = in[0];
        REQUIRE(filter <= 4);
        for (std::size_t x = 0; x < stride; ++x) {
            const int left = x >= static_cast<std::size_t>(channels) ? row[x - channels] : 0;
            const int up = previous[x];
            const int up_left =
                x >= static_cast<std::size_t>(channels) ? previous[x - channels] : 0;
            int predicted = 0;
            switch (filter) {
            case 1:
                predicted = left;
                break;
            case 2:
                predicted = up;
                break;
            case 3:
                predicted = (left + up) / 2;
                break;
            case 4:
                predicted = png_detail::paeth(left, up, up_left);
                break;
            default:
                break;
            }
            row[x] = static_cast<std::uint8_t>(in[1 + x] + predicted);
        }
        for (std::size_t x = 0; x < stride; x += static_cast<std::size_t>(channels)) {
            image.rgb.insert(image.rgb.end(), row.begin() + static_cast<std::ptrdiff_t>(x),
                             row.begin() + static_cast<std::ptrdiff_t>(x) + 3);
        }
        previous.swap(row);
    }
    return image;
}

/// One headless Chromium with its own profile, window size and time bound per run.
class headless_chromium {
public:
    /// `chromium`: from require_chromium(). Each run ends within `limit` or FAILs the test.
    explicit headless_chromium(std::string chromium, int window_width = 1000,
                               int window_height = 1400, int limit_s = 60)
        : chromium_(std::move(chromium)), profile_("chromium-profile"),
          window_(std::to_string(window_width) + "," + std::to_string(window_height)),
          limit_s_(limit_s) {}

    /// The DOM of `url` after its load event, serialised. With `read_frames`, a page may read the
    /// documents of file:// frames it opens (a probe page that inspects another page needs it).
    [[nodiscard]] std::string dump_dom(const std::string& url, bool read_frames = false) const {
        std::vector<std::string> args = common_args();
        if (read_frames) {
            args.emplace_back("--allow-file-access-from-files");
        }
        args.emplace_back("--dump-dom");
        args.push_back(url);
        return run(args).out;
    }

    /// A screenshot of the window's worth of `url` at the top of the page.
    [[nodiscard]] screenshot take_screenshot(const std::string& url) const {
        const auto file = profile_.path() / "screenshot.png";
        std::filesystem::remove(file);
        std::vector<std::string> args = common_args();
        args.push_back("--screenshot=" + file.string());
        args.push_back(url);
        const auto result = run(args);
        INFO(result.err);
        REQUIRE(std::filesystem::is_regular_file(file));
        return read_png(file);
    }

private:
    [[nodiscard]] std::vector<std::string> common_args() const {
        return {"--kill-after=5",
                std::to_string(limit_s_),
                chromium_,
                "--headless",
                "--no-sandbox", // tests may run as root, where the sandbox refuses to start
                "--disable-gpu",
                "--user-data-dir=" + (profile_.path() / "profile").string(),
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--hide-scrollbars",
                "--window-size=" + window_};
    }

    [[nodiscard]] run_result run(const std::vector<std::string>& args) const {
        const auto result =
            run_to_end("/usr/bin/timeout", args, {}, std::chrono::seconds(limit_s_ + 15));
        INFO("chromium " << args.back() << "\nstderr:\n" << result.err);
        if (result.status == 124 || result.status == 137 || result.status == -1) {
            FAIL("chromium did not finish within " << limit_s_ << " s");
        }
        REQUIRE(result.status == 0);
        return result;
    }

    std::string chromium_;
    temp_dir profile_;
    std::string window_;
    int limit_s_;
};

} // namespace quoter::test
