// The system clock behind natomedia::Clock; tests substitute their own Clock.
#pragma once

#include <ctime>

#include <natomedia/services.h>

namespace natomedia::core {

class SystemClock : public Clock {
 public:
  std::time_t now() const override { return std::time(nullptr); }
};

}  // namespace natomedia::core
