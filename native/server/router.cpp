#include "router.h"

namespace canvass::server {
namespace {

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

std::string Join(const std::vector<std::string>& parts, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) out += (i > from ? "/" : "") + parts[i];
  return out;
}

bool Match(const std::vector<std::string>& pattern, std::size_t pi,
           const std::vector<std::string>& path, std::size_t si, std::vector<std::string>* params) {
  if (pi == pattern.size()) return si == path.size();
  if (pattern[pi] == "{...}") {
    // One or more segments, not all empty; the longest that lets the rest match, as a prefix and
    // a suffix cut from the path would take it.
    for (std::size_t end = path.size(); end > si; --end) {
      const std::size_t mark = params->size();
      params->push_back(Join(path, si, end));
      if (!params->back().empty() && Match(pattern, pi + 1, path, end, params)) return true;
      params->resize(mark);
    }
    return false;
  }
  if (si == path.size()) return false;
  if (pattern[pi] == "{}") {
    if (path[si].empty()) return false;
    params->push_back(path[si]);
  } else if (pattern[pi] != path[si]) {
    return false;
  }
  return Match(pattern, pi + 1, path, si + 1, params);
}

}  // namespace

bool MatchPath(const std::string& pattern, const std::string& path,
               std::vector<std::string>* params) {
  const std::size_t mark = params->size();
  if (Match(Segments(pattern), 0, Segments(path), 0, params)) return true;
  params->resize(mark);
  return false;
}

bool Admits(Needs needs, const Principal& who) {
  switch (needs) {
    case Needs::kPublic:
    case Needs::kAnyRole:
      return true;
    case Needs::kManagers:
      return who.role == Role::kManager || who.role == Role::kOwner;
    case Needs::kOwner:
      return who.role == Role::kOwner;
  }
  return false;
}

std::optional<HttpResponse> Router::Dispatch(const HttpRequest& request, const Principal& who,
                                             bool public_only, std::string* actor) const {
  for (const Route& route : routes_) {
    if ((route.needs == Needs::kPublic) != public_only) continue;
    if (route.method != "*" && route.method != request.method) continue;
    AdminCall call{request, who, {}, actor};
    if (!MatchPath(route.pattern, request.path, &call.params)) continue;
    if (Admits(route.needs, who)) return route.handler(call);
    if (route.refuse) return route.refuse(call);
  }
  return std::nullopt;
}

}  // namespace canvass::server
