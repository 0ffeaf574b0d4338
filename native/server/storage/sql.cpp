#include "storage/sql.h"

namespace canvass::server {

std::string SqlDialect::ClaimRows(const char* alias) const {
  if (!concurrent_writers) return std::string();
  return std::string(" FOR UPDATE OF ") + alias + " SKIP LOCKED";
}

std::string SqlDialect::Schema(std::string_view schema) const {
  const std::pair<std::string_view, const char*> words[] = {
      {"{BLOB}", blob},
      {"{INT}", integer},
      {"{BOOL}", boolean},
      {"{JSON}", json},
      {"{WITHOUT_ROWID}", without_rowid},
      {"{SERIAL_KEY}", serial_key},
      {"{ROW_ID}", row_id_column},
  };
  std::string out;
  out.reserve(schema.size());
  for (std::size_t i = 0; i < schema.size();) {
    bool replaced = false;
    if (schema[i] == '{') {
      for (const auto& [word, spelling] : words) {
        if (schema.substr(i, word.size()) == word) {
          out += spelling;
          i += word.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += schema[i++];
  }
  return out;
}

bool IsStorableText(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const std::uint32_t min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::optional<std::string> PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

Status CheckSqlArgs(const SqlArgs& args, std::string_view what) {
  for (const SqlArg& a : args) {
    if (a.type == SqlArg::Type::kText && !IsStorableText(a.bytes)) {
      return Status::InvalidArgument(std::string(what) +
                                     ": text that is not UTF-8, or holds NUL, cannot be stored");
    }
  }
  return Status::Ok();
}

namespace {

// `run` if every text argument is storable.
template <typename Run>
Result<std::uint64_t> Checked(const SqlArgs& args, std::string_view what, Run&& run) {
  if (Status s = CheckSqlArgs(args, what); !s.ok()) return s;
  return run();
}

Status StatusOf(const Result<std::uint64_t>& r) { return r.ok() ? Status::Ok() : r.status(); }

}  // namespace

Result<std::uint64_t> SqlConn::Exec(std::string_view sql, const SqlArgs& args,
                                    std::string_view what) {
  return Checked(args, what, [&] { return DoExec(sql, args, what, nullptr); });
}

Status SqlConn::Query(std::string_view sql, const SqlArgs& args, std::string_view what,
                      const SqlRowFn& row) {
  return StatusOf(Checked(args, what, [&] { return DoExec(sql, args, what, &row); }));
}

Status SqlConn::InsertMany(std::string_view insert, std::size_t columns, const SqlArgs& args,
                           std::string_view what) {
  return StatusOf(Checked(args, what, [&]() -> Result<std::uint64_t> {
    if (Status s = DoInsertMany(insert, columns, args, what); !s.ok()) return s;
    return columns ? args.size() / columns : 0;
  }));
}

Result<std::uint64_t> SqlDb::Exec(std::string_view sql, const SqlArgs& args,
                                  std::string_view what) {
  return Checked(args, what, [&] { return DoExec(sql, args, what, nullptr); });
}

Status SqlDb::Query(std::string_view sql, const SqlArgs& args, std::string_view what,
                    const SqlRowFn& row) {
  return StatusOf(Checked(args, what, [&] { return DoExec(sql, args, what, &row); }));
}

}  // namespace canvass::server
