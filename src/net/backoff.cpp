// Backoff with jitter and the connection-attempt limiter.
#include "quoter/net/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace quoter::net {

namespace {

// splitmix64: tiny, fast and good enough to decorrelate reconnect delays.
std::uint64_t next_random(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::uint64_t random_seed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

} // namespace

backoff::backoff(backoff_config config, std::uint64_t seed) noexcept
    : config_(config), state_(seed != 0 ? seed : random_seed()) {}

std::int64_t backoff::next_delay_ms() noexcept {
    const double base = static_cast<double>(std::max<std::int64_t>(config_.initial_ms, 0));
    const double cap = static_cast<double>(std::max<std::int64_t>(config_.max_ms, 0));
    const double grown = base * std::pow(std::max(config_.multiplier, 1.0), attempts_);
    const double delay = std::min(grown, cap);
    if (attempts_ < 64) {
        ++attempts_;
    }
    const double jitter_share = std::clamp(config_.jitter_pct, 0.0, 100.0) / 100.0;
    const double unit = static_cast<double>(next_random(state_) >> 11) * 0x1.0p-53; // [0, 1)
    return static_cast<std::int64_t>(delay * (1.0 - jitter_share * unit));
}

void attempt_limiter::expire(core::timestamp_ns now_ns) {
    const core::timestamp_ns horizon = now_ns - config_.window_ms * core::ns_per_ms;
    while (!attempts_ns_.empty() && attempts_ns_.front() <= horizon) {
        attempts_ns_.pop_front();
    }
}

std::int64_t attempt_limiter::wait_ms(core::timestamp_ns now_ns) {
    expire(now_ns);
    if (config_.max_attempts == 0 || attempts_ns_.size() < config_.max_attempts) {
        return 0;
    }
    // The attempt that frees a place is the one max_attempts back from the end.
    const core::timestamp_ns freeing = attempts_ns_[attempts_ns_.size() - config_.max_attempts];
    const core::duration_ns wait = freeing + config_.window_ms * core::ns_per_ms - now_ns;
    return std::max<std::int64_t>(1, (wait + core::ns_per_ms - 1) / core::ns_per_ms);
}

void attempt_limiter::record(core::timestamp_ns now_ns) {
    expire(now_ns);
    attempts_ns_.push_back(now_ns);
}

} // namespace quoter::net
