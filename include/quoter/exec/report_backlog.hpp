// report_backlog: the reports a gateway's I/O thread could not hand to the core because the ring
// to it was full (the core thread stopped polling for a while). They are kept in order and handed
// over before any later report, so that the core sees every fill, in order, however long it was
// away. A report lost would leave the position the limits judge wrong until the next
// reconciliation, and a fill is reported once only.
//
// Fixed capacity, allocated at construction; past it a report is lost and deliver() says so (the
// owner counts it and raises the alarm). Thread ownership: the producer side of the ring (the
// gateway's I/O thread).
#pragma once

#include "quoter/exec/order_types.hpp"

#include <cstddef>
#include <vector>

namespace quoter::exec {

class report_backlog {
public:
    explicit report_backlog(std::size_t capacity) : items_(capacity) {}

    /// Hands `report` to `ring` behind every report held back before it, or holds it back too.
    /// False when the backlog is full as well: the report is lost.
    template <class Ring> [[nodiscard]] bool deliver(Ring& ring, const exec_report& report) {
        (void)flush(ring);
        if (count_ == 0 && ring.try_push(report)) {
            return true;
        }
        if (count_ == items_.size()) {
            return false;
        }
        items_[(head_ + count_) % items_.size()] = report;
        ++count_;
        return true;
    }

    /// Moves what the ring has room for, oldest first; returns how many moved.
    template <class Ring> std::size_t flush(Ring& ring) {
        std::size_t moved = 0;
        while (count_ > 0 && ring.try_push(items_[head_])) {
            head_ = (head_ + 1) % items_.size();
            --count_;
            ++moved;
        }
        return moved;
    }

    /// Reports held back, waiting for room in the ring.
    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return items_.size(); }

private:
    std::vector<exec_report> items_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

} // namespace quoter::exec
