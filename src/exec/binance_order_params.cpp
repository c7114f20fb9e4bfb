#include "quoter/exec/binance_order_params.hpp"

namespace quoter::exec {

venue_order_status parse_venue_order_status(std::string_view text) noexcept {
    if (text == "NEW") {
        return venue_order_status::new_order;
    }
    if (text == "PARTIALLY_FILLED") {
        return venue_order_status::partially_filled;
    }
    if (text == "FILLED") {
        return venue_order_status::filled;
    }
    if (text == "CANCELED") {
        return venue_order_status::canceled;
    }
    if (text == "EXPIRED") {
        return venue_order_status::expired;
    }
    if (text == "EXPIRED_IN_MATCH") {
        return venue_order_status::expired_in_match;
    }
    if (text == "REJECTED") {
        return venue_order_status::rejected;
    }
    if (text == "PENDING_CANCEL") {
        return venue_order_status::pending_cancel;
    }
    return venue_order_status::unknown;
}

} // namespace quoter::exec
