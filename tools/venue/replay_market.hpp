// Replay market: plays captures of `<local ns> <json>` gzip lines (the recorder's format) back
// to clients, in capture time scaled by a speed factor or as fast as possible.
//
// Snapshot consistency: a capture holds the REST snapshot the recorder fetched (a bare
// {"lastUpdateId":...} line after the first diffs). Until the replay reaches it, a symbol's
// book is unknown: REST snapshot requests for it wait. When it is reached the venue book
// becomes that snapshot plus every diff already replayed with u above its lastUpdateId;
// from then on each replayed (or withheld) diff is applied, so a snapshot served at any moment
// has lastUpdateId equal to the last diff id replayed. Symbols without a snapshot line start
// from an empty book.
#pragma once

#include "market.hpp"

#include "quoter/core/result.hpp"
#include "quoter/net/io_loop.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace quoter::venue {

struct replay_options {
    std::vector<std::string> files;
    double speed = 1.0; ///< Capture time / wall time; 0 replays as fast as possible.
};

struct replay_progress {
    std::size_t events = 0;   ///< Stream events and snapshots loaded.
    std::size_t replayed = 0; ///< Events processed so far.
    bool finished = false;
};

class replay_market {
public:
    replay_market(net::io_loop& loop, market_state& market, market_sink& sink,
                  replay_options options);

    /// Reads every file. Returns the number of events or an error message.
    [[nodiscard]] core::result<std::size_t, std::string> load();
    /// Starts the playback clock (idempotent).
    void start();
    [[nodiscard]] const replay_progress& progress() const { return progress_; }

private:
    struct event {
        std::int64_t capture_ns = 0;
        std::size_t symbol = 0;
        bool snapshot = false;
        channel kind = channel::depth;
        std::string data;
    };

    void pump();
    void play(const event& item);

    net::io_loop& loop_;
    market_state& market_;
    market_sink& sink_;
    replay_options options_;
    net::timer timer_;
    std::vector<event> events_;
    /// Per symbol, diffs replayed before its snapshot: (u, bids, asks).
    std::vector<std::vector<std::size_t>> pending_;
    replay_progress progress_;
    std::int64_t start_steady_ns_ = 0;
    bool started_ = false;
};

} // namespace quoter::venue
