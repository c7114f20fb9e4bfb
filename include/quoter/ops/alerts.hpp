// Where risk events go besides the trading state: alerts to a human (stderr for now) and
// rejections, state changes and alerts to the journal. Adapters between the risk layer's sink
// interfaces and their destinations; the risk layer itself knows none of them.
//
// Thread ownership: called on the core thread. stderr_alert_sink makes one write(2) per alert
// (alerts are rare); the journal sinks only push to the journal ring.
#pragma once

#include "quoter/ops/journal.hpp"
#include "quoter/risk/alert.hpp"
#include "quoter/risk/kill_switch.hpp"
#include "quoter/risk/pre_trade.hpp"

#include <unistd.h>

namespace quoter::ops {

/// Writes one line per alert ("quoter alert: critical kill reason=daily_loss ...") to a file
/// descriptor, stderr by default, with the wall-clock time in UTC next to the engine's raw
/// nanoseconds ("utc=2026-12-04T21:50:17.688Z ts=..."). No allocation; one write(2).
class stderr_alert_sink final : public risk::alert_sink {
public:
    /// Whether fd is a terminal is looked up once, here.
    explicit stderr_alert_sink(int fd = STDERR_FILENO) noexcept;
    void raise(const risk::alert& a) noexcept override;

private:
    int fd_;
    bool terminal_; ///< Clear the status line ("\r\033[K") before each alert.
};

/// Journals every alert, then passes it on to next (if any).
class journal_alert_sink final : public risk::alert_sink {
public:
    explicit journal_alert_sink(journal& j, risk::alert_sink* next = nullptr) noexcept
        : journal_(&j), next_(next) {}
    void raise(const risk::alert& a) noexcept override {
        journal_->append(a);
        if (next_ != nullptr) {
            next_->raise(a);
        }
    }

private:
    journal* journal_;
    risk::alert_sink* next_;
};

/// Journals every pre-trade rejection with its values.
class journal_rejection_sink final : public risk::rejection_sink {
public:
    explicit journal_rejection_sink(journal& j) noexcept : journal_(&j) {}
    void on_rejection(const risk::rejection_record& record) noexcept override {
        journal_->append(record);
    }

private:
    journal* journal_;
};

} // namespace quoter::ops
