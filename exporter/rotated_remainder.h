#pragma once

#include <cstdint>
#include <string>

#include "exporter/file_follower.h"

namespace poolwatch {

// The part of a rotated-away file that poolwatch had not read when it stopped.
struct RotatedRemainder {
  bool needed = false;  // the saved file is no longer at the log path
  bool found = false;   // …and it was found under another name in the same directory
  std::string file;     // where it was found
  uint64_t from_offset = 0;
  uint64_t bytes = 0;
  uint64_t lines = 0;
  uint64_t overlong_lines = 0;
  std::string message;  // for the log: what was read, or what is lost and why
};

// When the log was rotated while poolwatch was down, the file it was reading has been renamed
// (logrotate: access.log → access.log.1, or further) and nginx writes to a new access.log.
// This finds the old file in the log's directory by its identity (device, inode, and the
// fingerprint of its first bytes), and delivers every line after the saved offset, the last
// unterminated one included. The follower then reads the new file from its beginning.
//
// Limits: a rotated file that was compressed, deleted or moved to another directory is not
// found (its unread lines are lost, and the message says so); with two rotations while down,
// the file in between is not read either. A copytruncate while down is seen by the follower as
// a different fingerprint: the file is read from its start.
RotatedRemainder ReadRotatedRemainder(const std::string& log_path, const FilePosition& saved,
                                      LineSink on_line);

}  // namespace poolwatch
