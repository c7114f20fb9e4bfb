// temp_dir: a fresh directory under the build tree for one test, removed with everything in it
// when the test ends. Names include the process id and a counter, so parallel test programs
// never share one.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include <sys/stat.h>
#include <unistd.h>

namespace quoter::test {

class temp_dir {
public:
    explicit temp_dir(std::string_view label) {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::path(QUOTER_BINARY_DIR) / "test-tmp" /
                (std::string(label) + "-" + std::to_string(::getpid()) + "-" +
                 std::to_string(counter.fetch_add(1)));
        std::filesystem::create_directories(path_);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    /// Writes `text` to `name` inside the directory with the given permission bits; returns the
    /// file's path.
    std::filesystem::path write(std::string_view name, std::string_view text,
                                unsigned mode = 0644) const {
        const auto file = path_ / name;
        {
            std::ofstream out(file, std::ios::binary | std::ios::trunc);
            out << text;
        }
        ::chmod(file.c_str(), static_cast<mode_t>(mode));
        return file;
    }

private:
    std::filesystem::path path_;
};

} // namespace quoter::test
