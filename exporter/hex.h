#pragma once

#include <string>
#include <string_view>

namespace poolwatch {

// Bytes as lower-case hex, two digits a byte: how poolwatch keeps bytes that are not text (a
// log file's first bytes, label values that are not UTF-8) in text (the state file, logfmt).
std::string HexEncode(std::string_view bytes);
void AppendHexByte(std::string& out, unsigned char byte);
// Either case. False, leaving `out` unspecified, on an odd length or a character that is not a
// hex digit.
bool HexDecode(std::string_view hex, std::string* out);

}  // namespace poolwatch
