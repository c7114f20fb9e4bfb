#include "quoter/config/config.hpp"
