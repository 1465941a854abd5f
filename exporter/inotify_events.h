#pragma once

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

namespace poolwatch {

// Reads every event pending on a non-blocking inotify descriptor and hands each to
// `visit(const inotify_event&)`; returns once the descriptor is drained (EAGAIN) or fails.
// A negative `fd` (inotify unavailable) has nothing to drain.
template <typename Visit>
void DrainInotifyEvents(int fd, Visit&& visit) {
  if (fd < 0) return;
  alignas(struct inotify_event) char events[4096];
  for (;;) {
    const ssize_t n = ::read(fd, events, sizeof(events));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (ssize_t i = 0; i < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(events + i);
      visit(*event);
      i += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
    }
  }
}

}  // namespace poolwatch
