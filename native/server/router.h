// Router: the admin API (docs/protocol.md, "Admin API") as a table of routes, each a method, a
// path pattern, the role its caller needs and a small handler, instead of one chain of ifs.
//
// Patterns are paths whose segments may be `{}` (one non-empty segment) or `{...}` (one or more
// segments, slashes kept, the longest that fits): "/v1/admin/cases/{}/state",
// "/v1/admin/devices/{...}/revoke". Method "*" matches every method. Routes are tried in the order
// they were added; the first whose method and pattern match and whose role the caller has answers.
// A route whose role the caller lacks answers with its `refuse` if it has one, else the search
// goes on (so a route listed later, or the caller of Dispatch, decides).
// A Router is built once and then only read: Dispatch is thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http_message.h"
#include "users.h"

namespace canvass::server {

// One admin request as a handler sees it.
struct AdminCall {
  const HttpRequest& request;
  const Principal& who;             // the caller (for a kPublic route: nobody, name "")
  std::vector<std::string> params;  // what the pattern's {} and {...} matched, in order
  std::string* actor;               // who asked, for the access log; a handler may set it
};

// The role a route's caller needs.
enum class Needs {
  kPublic,    // no one: the route runs before authentication (login)
  kAnyRole,   // any authenticated caller
  kManagers,  // a manager or the owner
  kOwner,
};

struct Route {
  std::string method;   // "GET", "POST", ... or "*"
  std::string pattern;  // see the file comment
  Needs needs = Needs::kOwner;
  std::function<HttpResponse(const AdminCall&)> handler;
  // The answer to a caller without the role; empty: look on.
  std::function<HttpResponse(const AdminCall&)> refuse = {};
};

// Whether `path` matches `pattern`; appends what its {} and {...} matched to *params.
bool MatchPath(const std::string& pattern, const std::string& path,
               std::vector<std::string>* params);

class Router {
 public:
  void Add(Route route) { routes_.push_back(std::move(route)); }

  // The answer of the first route that matches and admits `who` (or refuses with its own
  // answer); nullopt if none does. Routes that `public_only` leaves out: all but kPublic ones
  // (for the request before authentication), else the kPublic ones.
  std::optional<HttpResponse> Dispatch(const HttpRequest& request, const Principal& who,
                                       bool public_only, std::string* actor) const;

 private:
  std::vector<Route> routes_;
};

// Whether `who` has the role `needs` asks for.
bool Admits(Needs needs, const Principal& who);

}  // namespace canvass::server
