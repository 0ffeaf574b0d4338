// The closed loop's admin API (docs/protocol.md, "Cases", "Users and roles", "Webhooks"):
// follow-up cases for every role (each sees the locations it works at), and users, the
// root-cause list and webhooks for the owner.
//
// Contact details are opened here and nowhere else: only in the answer to GET of one case, for a
// user with access to its location; never in lists, events or logs, and the clear text is wiped
// once it is written into the answer.
#include <algorithm>

#include "api.h"
#include "canvass/record.h"
#include "cases.h"
#include "webhooks.h"

namespace canvass::server {
namespace {

constexpr std::uint32_t kDefaultListLimit = 200;
constexpr std::uint32_t kMaxListLimit = 1000;
constexpr std::size_t kMaxLocationBytes = 128;
constexpr std::size_t kMaxLocations = 1024;

// Field `key` of a JSON body: absent, null, or a string (else InvalidArgument naming it).
Result<std::optional<std::string>> OptionalString(const rapidjson::Document& doc, const char* key) {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || it->value.IsNull()) return std::optional<std::string>();
  if (!it->value.IsString()) return Status::InvalidArgument(std::string(key) + ": a string");
  return std::optional<std::string>(
      std::string(it->value.GetString(), it->value.GetStringLength()));
}

HttpResponse Forbidden(const Principal& who, const std::string& what) {
  return ErrorResponse(403, "forbidden",
                       what + " needs the owner role; " + who.name + " is " + RoleName(who.role));
}

HttpResponse CaseNotFound(const std::string& id) {
  return ErrorResponse(
      404, "not_found",
      "no case '" + id + "' at your locations (GET /v1/admin/cases lists the ones you can see)");
}

void WriteUser(JsonWriter& w, const UserRow& u) {
  w.StartObject();
  w.Key("name");
  WriteString(w, u.name);
  w.Key("role");
  WriteString(w, u.role);
  w.Key("locations");
  w.StartArray();
  for (const std::string& l : u.locations) WriteString(w, l);
  w.EndArray();
  w.Key("created_ms");
  w.Int64(u.created_ms);
  w.EndObject();
}

// A webhook's members: "id", "url", "created_ms".
void WriteWebhook(JsonWriter& w, const WebhookRow& h) {
  w.Key("id");
  WriteString(w, h.webhook_id);
  w.Key("url");
  WriteString(w, h.url);
  w.Key("created_ms");
  w.Int64(h.created_ms);
}

// The "locations" of a user body: a list of location names (1-128 bytes, no line breaks).
Result<std::vector<std::string>> ParseLocations(const rapidjson::Value& v) {
  const Status bad = Status::InvalidArgument(
      R"(locations: a list of location names, e.g. ["Kyiv-Podil"], as devices are enrolled)");
  if (!v.IsArray() || v.Size() > kMaxLocations) return bad;
  std::vector<std::string> out;
  for (const auto& l : v.GetArray()) {
    if (!l.IsString() || l.GetStringLength() == 0 || l.GetStringLength() > kMaxLocationBytes) {
      return bad;
    }
    std::string name(l.GetString(), l.GetStringLength());
    if (name.find_first_of("\r\n") != std::string::npos || !IsStorableText(name)) return bad;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
}

// Role and locations must fit together: managers and staff work somewhere.
Status CheckRoleLocations(const UserRow& u) {
  std::optional<Role> role = ParseRole(u.role);
  if (!role) return Status::InvalidArgument("role: owner, manager or staff");
  if (*role != Role::kOwner && u.locations.empty()) {
    return Status::InvalidArgument("locations: a " + u.role + " needs the locations they work at");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> Api::Categories() {
  Result<std::optional<std::string>> saved = store_->GetSetting(kCategoriesSetting);
  if (!saved.ok()) return saved.status();
  if (!*saved) return DefaultCategories();
  return ParseCategories(**saved);
}

// The closed loop's routes (api.cpp's AddAdminRoutes lists the rest).
void Api::AddClosedLoopRoutes() {
  const auto owner_only = [](const AdminCall& call) {
    return Forbidden(call.who, call.request.method + " " + call.request.path);
  };
  router_.Add({"GET", "/v1/admin/me", Needs::kAnyRole, [](const AdminCall& call) {
                 const Principal& who = call.who;
                 return JsonResponse(200, [&](JsonWriter& w) {
                   w.StartObject();
                   w.Key("name");
                   WriteString(w, who.name);
                   w.Key("role");
                   w.String(RoleName(who.role));
                   w.Key("locations");
                   w.StartArray();
                   for (const std::string& l : who.locations) WriteString(w, l);
                   w.EndArray();
                   w.EndObject();
                 });
               }});
  router_.Add({"GET", "/v1/admin/cases", Needs::kAnyRole,
               [this](const AdminCall& call) { return ListCases(call.request, call.who); }});
  router_.Add({"GET", "/v1/admin/cases/{}", Needs::kAnyRole,
               [this](const AdminCall& call) { return GetCase(call.params[0], call.who); }});
  for (const auto& [method, action] : {std::pair<const char*, const char*>{"POST", "state"},
                                       {"POST", "notes"},
                                       {"PUT", "category"},
                                       {"PUT", "assignee"}}) {
    router_.Add({method, std::string("/v1/admin/cases/{}/") + action, Needs::kAnyRole,
                 [this, action = std::string(action)](const AdminCall& call) {
                   return ChangeCase(call.request, call.who, call.params[0], action);
                 }});
  }
  router_.Add({"GET", "/v1/admin/case-categories", Needs::kAnyRole, [this](const AdminCall&) {
                 Result<std::vector<std::string>> categories = Categories();
                 if (!categories.ok()) return StatusResponse(categories.status());
                 HttpResponse out;
                 out.body = "{\"categories\":" + CategoriesJson(*categories) + "}";
                 return out;
               }});
  router_.Add(
      {"PUT", "/v1/admin/case-categories", Needs::kOwner,
       [this](const AdminCall& call) {
         const HttpRequest& r = call.request;
         Result<std::vector<std::string>> categories = ParseCategories(r.body);
         if (!categories.ok()) return StatusResponse(categories.status());
         const std::string json = CategoriesJson(*categories);
         if (Status s = store_->PutSetting(kCategoriesSetting, json); !s.ok()) {
           return StatusResponse(s);
         }
         HttpResponse out;
         out.body = "{\"categories\":" + json + "}";
         return out;
       },
       [](const AdminCall& call) { return Forbidden(call.who, "editing the root-cause list"); }});
  // Users and webhooks: the owner's. A manager or staff member asking for any of their paths,
  // with any method, is told so (owner_only); the owner asking with a method they lack gets 404.
  router_.Add({"GET", "/v1/admin/users", Needs::kOwner, Handler(&Api::ListUsers)});
  router_.Add({"POST", "/v1/admin/users", Needs::kOwner, Handler(&Api::SaveUser)});
  router_.Add({"PUT", "/v1/admin/users/{...}", Needs::kOwner, Handler(&Api::SaveUser)});
  router_.Add({"DELETE", "/v1/admin/users/{...}", Needs::kOwner, Handler(&Api::DeleteUser)});
  router_.Add({"GET", "/v1/admin/webhooks", Needs::kOwner, Handler(&Api::ListWebhooks)});
  router_.Add({"POST", "/v1/admin/webhooks", Needs::kOwner, Handler(&Api::AddWebhook)});
  router_.Add(
      {"GET", "/v1/admin/webhooks/deliveries", Needs::kOwner, Handler(&Api::ListDeliveries)});
  router_.Add({"DELETE", "/v1/admin/webhooks/deliveries", Needs::kOwner, Handler(&Api::NotFound)});
  router_.Add({"DELETE", "/v1/admin/webhooks/{...}", Needs::kOwner, Handler(&Api::DeleteWebhook)});
  for (const char* path : {"/v1/admin/users", "/v1/admin/users/{...}", "/v1/admin/webhooks",
                           "/v1/admin/webhooks/{...}"}) {
    router_.Add({"*", path, Needs::kOwner, Handler(&Api::NotFound), owner_only});
  }
}

HttpResponse Api::ListCases(const HttpRequest& r, const Principal& who) {
  CaseFilter filter;
  if (std::string state = QueryValue(r, "state"); !state.empty()) {
    if (!ParseCaseState(state)) {
      return ErrorResponse(400, "invalid_argument",
                           "state: open, contacted, root_cause_found or resolved");
    }
    filter.state = state;
  }
  if (std::string location = QueryValue(r, "location"); !location.empty()) {
    if (!CanAccess(who, location)) {
      return ErrorResponse(403, "forbidden",
                           who.name + " does not work at location '" + location +
                               "'; leave location out to list the cases of all yours");
    }
    filter.locations = std::vector<std::string>{location};
  } else if (who.role != Role::kOwner) {
    filter.locations = who.locations;
  }
  const std::string overdue = QueryValue(r, "overdue");
  if (overdue == "true" || overdue == "1") {
    filter.overdue_at = now_ms_();
  } else if (!overdue.empty() && overdue != "false" && overdue != "0") {
    return ErrorResponse(400, "invalid_argument", "overdue: true or false");
  }
  if (std::string escalated = QueryValue(r, "escalated"); !escalated.empty()) {
    if (escalated != "true" && escalated != "false") {
      return ErrorResponse(400, "invalid_argument", "escalated: true or false");
    }
    filter.escalated = escalated == "true";
  }
  if (std::string assignee = QueryValue(r, "assignee"); !assignee.empty()) {
    filter.assignee = assignee == "me" ? who.name : assignee == "none" ? "" : assignee;
  }
  Result<std::uint32_t> limit = ListLimit(r, kDefaultListLimit, kMaxListLimit);
  if (!limit.ok()) return StatusResponse(limit.status());
  filter.limit = *limit;
  Result<std::vector<CaseRow>> cases = store_->ListCases(filter);
  if (!cases.ok()) return StatusResponse(cases.status());
  const std::int64_t now = now_ms_();
  return JsonResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("now_ms");
    w.Int64(now);
    w.Key("cases");
    w.StartArray();
    for (const CaseRow& c : *cases) {
      w.StartObject();
      WriteCaseFields(w, c, now);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

HttpResponse Api::GetCase(const std::string& id, const Principal& who) {
  Result<std::optional<CaseRow>> found = store_->FindCase(id);
  if (!found.ok()) return StatusResponse(found.status());
  if (!*found || !CanAccess(who, (*found)->location)) return CaseNotFound(id);
  const CaseRow& c = **found;
  std::optional<std::string> next;
  if (std::optional<CaseState> state = ParseCaseState(c.state); state && c.state != "resolved") {
    next = CaseStateName(static_cast<CaseState>(static_cast<int>(*state) + 1));
  }
  // The one place contact details are opened (see the file comment).
  Result<std::string> contact = c.sealed_contact.empty()
                                    ? Result<std::string>(Status::NotFound("no contact details"))
                                    : keys_.box.OpenSealed(c.sealed_contact);
  // Managers and the owner assign cases to anyone who works at the location: they get the names
  // (the dashboard's assign buttons); staff only take a case themselves.
  std::optional<std::vector<std::string>> assignees;
  if (who.role != Role::kStaff) {
    Result<std::vector<UserRow>> users = store_->ListUsers();
    if (!users.ok()) return StatusResponse(users.status());
    assignees.emplace();
    for (const UserRow& u : *users) {
      std::optional<Role> role = ParseRole(u.role);
      if (role && CanAccess(Principal{u.name, *role, u.locations, false}, c.location)) {
        assignees->push_back(u.name);
      }
    }
  }
  const std::int64_t now = now_ms_();
  HttpResponse out = JsonResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    WriteCaseFields(w, c, now);
    if (assignees) {
      w.Key("assignees");
      w.StartArray();
      for (const std::string& name : *assignees) WriteString(w, name);
      w.EndArray();
    }
    w.Key("next_state");
    if (next) {
      WriteString(w, *next);
    } else {
      w.Null();
    }
    w.Key("contact");
    if (contact.ok()) {
      WriteString(w, *contact);
    } else {
      w.Null();
      if (!c.sealed_contact.empty()) {
        w.Key("contact_error");
        w.String(
            "the contact details do not open with this organisation's box key "
            "(DATA/keys/org-box.key)");
      }
    }
    w.Key("notes");
    w.StartArray();
    for (const CaseNote& n : c.notes) {
      w.StartObject();
      w.Key("author");
      WriteString(w, n.author);
      w.Key("time_ms");
      w.Int64(n.time_ms);
      w.Key("text");
      WriteString(w, n.text);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
  if (contact.ok()) SecureWipe(contact->data(), static_cast<std::uint32_t>(contact->size()));
  return out;
}

HttpResponse Api::ChangeCase(const HttpRequest& r, const Principal& who, const std::string& id,
                             const std::string& action) {
  Result<rapidjson::Document> doc = ParseJsonBody(r.body);
  if (!doc.ok()) return StatusResponse(doc.status());
  Result<std::optional<CaseRow>> found = store_->FindCase(id);
  if (!found.ok()) return StatusResponse(found.status());
  if (!*found || !CanAccess(who, (*found)->location)) return CaseNotFound(id);
  const std::string location = (*found)->location;

  Result<std::optional<std::string>> note =
      OptionalString(*doc, action == "notes" ? "text" : "note");
  if (!note.ok()) return StatusResponse(note.status());
  if (*note && ((*note)->empty() || (*note)->size() > kMaxTextLength || !IsStorableText(**note))) {
    return ErrorResponse(400, "invalid_argument",
                         "note: 1 to " + std::to_string(kMaxTextLength) + " bytes of UTF-8 text");
  }
  if (action == "notes" && !*note) {
    return ErrorResponse(400, "invalid_argument", R"(text: send {"text": "what was done"})");
  }
  Result<std::optional<std::string>> category = OptionalString(*doc, "category");
  if (!category.ok()) return StatusResponse(category.status());
  if (*category) {
    Result<std::vector<std::string>> known = Categories();
    if (!known.ok()) return StatusResponse(known.status());
    if (std::find(known->begin(), known->end(), **category) == known->end()) {
      std::string list;
      for (const std::string& k : *known) list += (list.empty() ? "" : ", ") + k;
      return ErrorResponse(400, "invalid_argument",
                           "category: '" + **category + "' is not on the list (" + list +
                               "); the owner edits it with PUT /v1/admin/case-categories");
    }
  } else if (action == "category") {
    return ErrorResponse(400, "invalid_argument", R"(category: send {"category": "price"})");
  }
  std::optional<CaseState> target;
  if (action == "state") {
    Result<std::optional<std::string>> state = OptionalString(*doc, "state");
    if (!state.ok()) return StatusResponse(state.status());
    target = *state ? ParseCaseState(**state) : std::nullopt;
    if (!target) {
      return ErrorResponse(400, "invalid_argument",
                           "state: contacted, root_cause_found or resolved (the next one)");
    }
  }
  std::optional<std::string> assignee;  // "" unassigns
  if (action == "assignee") {
    Result<std::optional<std::string>> named = OptionalString(*doc, "assignee");
    if (!named.ok()) return StatusResponse(named.status());
    assignee = named->value_or("");
    if (who.role == Role::kStaff && !assignee->empty() && *assignee != who.name) {
      return ErrorResponse(403, "forbidden",
                           "staff assign cases to themselves only; a manager or the owner "
                           "assigns them to others");
    }
    // The owner behind the initial token and the admin password ("admin") is no row of the
    // users table, and may take any case, as an owner user may (CanAccess).
    if (!assignee->empty() && *assignee != kAdminName) {
      Result<std::optional<UserRow>> user = store_->FindUser(*assignee);
      if (!user.ok()) return StatusResponse(user.status());
      std::optional<Role> role = *user ? ParseRole((*user)->role) : std::nullopt;
      if (!role ||
          !CanAccess(Principal{(*user)->name, *role, (*user)->locations, false}, location)) {
        return ErrorResponse(400, "invalid_argument",
                             "assignee: '" + *assignee + "' is not a user at location '" +
                                 location + "' (GET /v1/admin/users)");
      }
    }
  }

  const std::int64_t now = now_ms_();
  Result<CaseRow> changed = store_->ChangeCase(id, [&](CaseRow& c) -> Result<CaseChange> {
    CaseChange change;
    const std::optional<CaseState> from = ParseCaseState(c.state);
    if (!from) return Status::Corruption("case " + id + " has an unknown state " + c.state);
    const bool resolved = *from == CaseState::kResolved;
    CaseEventDetail detail{who.name, "", {}};
    std::string type;
    if (action == "state") {
      if (*category) c.category = **category;
      if (Status t = CheckTransition(*from, *target, !c.category.empty()); !t.ok()) return t;
      c.state = CaseStateName(*target);
      if (*target == CaseState::kResolved) c.resolved_ms = now;
      detail.from = CaseStateName(*from);
      type = "case.state_changed";
    } else if (action == "notes") {
      type = "case.note_added";
    } else if (resolved) {
      return Status::Conflict("the case is resolved: its " + action +
                              " stays as it was (add a note instead)");
    } else if (action == "category") {
      if (c.category == **category) return change;  // unchanged: nothing to write
      c.category = **category;
      type = "case.updated";
    } else {
      if (c.assignee == *assignee) return change;
      c.assignee = *assignee;
      type = "case.assigned";
    }
    c.updated_ms = now;
    ++c.revision;
    if (*note) change.note = CaseNote{c.revision, who.name, now, **note};
    change.events.push_back(MakeCaseEvent(type, c, now, detail));
    change.changed = true;
    return change;
  });
  if (!changed.ok()) {
    if (changed.status().code() == StatusCode::kNotFound) return CaseNotFound(id);
    return StatusResponse(changed.status());
  }
  if (options_.on_case_event) options_.on_case_event();
  return JsonResponse(action == "notes" ? 201 : 200, [&](JsonWriter& w) {
    w.StartObject();
    WriteCaseFields(w, *changed, now);
    w.EndObject();
  });
}

HttpResponse Api::ListUsers(const AdminCall&) {
  Result<std::vector<UserRow>> all = store_->ListUsers();
  if (!all.ok()) return StatusResponse(all.status());
  return JsonResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("users");
    w.StartArray();
    for (const UserRow& u : *all) WriteUser(w, u);
    w.EndArray();
    w.EndObject();
  });
}

HttpResponse Api::DeleteUser(const AdminCall& call) {
  Status s = store_->DeleteUser(call.params[0]);
  return s.ok() ? NoContent() : StatusResponse(s);
}

// POST /v1/admin/users (create), PUT /v1/admin/users/{name} (change).
HttpResponse Api::SaveUser(const AdminCall& call) {
  const HttpRequest& r = call.request;
  const bool create = call.params.empty();
  const std::string name = create ? std::string() : call.params[0];
  Result<rapidjson::Document> doc = ParseJsonBody(r.body);
  if (!doc.ok()) return StatusResponse(doc.status());
  UserRow user;
  if (create) {
    Result<std::optional<std::string>> given = OptionalString(*doc, "name");
    if (!given.ok()) return StatusResponse(given.status());
    user.name = given->value_or("");
    if (Status s = CheckUserName(user.name); !s.ok()) return StatusResponse(s);
    user.created_ms = now_ms_();
  } else {
    Result<std::optional<UserRow>> found = store_->FindUser(name);
    if (!found.ok()) return StatusResponse(found.status());
    if (!*found) return ErrorResponse(404, "not_found", "no user '" + name + "'");
    user = std::move(**found);
  }
  Result<std::optional<std::string>> role = OptionalString(*doc, "role");
  if (!role.ok()) return StatusResponse(role.status());
  if (*role) user.role = **role;
  if (auto l = doc->FindMember("locations"); l != doc->MemberEnd()) {
    Result<std::vector<std::string>> locations = ParseLocations(l->value);
    if (!locations.ok()) return StatusResponse(locations.status());
    user.locations = std::move(*locations);
  }
  if (user.role == RoleName(Role::kOwner)) user.locations.clear();  // owners see every location
  if (Status s = CheckRoleLocations(user); !s.ok()) return StatusResponse(s);
  Result<std::optional<std::string>> password = OptionalString(*doc, "password");
  if (!password.ok()) return StatusResponse(password.status());
  if (create && !*password) {
    return ErrorResponse(400, "invalid_argument",
                         "password: at least " + std::to_string(kMinPasswordLength) +
                             " characters; the user logs in with it");
  }
  if (*password) {
    Result<std::string> hash = HashPassword(&**password);  // wipes it
    if (!hash.ok()) return StatusResponse(hash.status());
    user.password_hash = std::move(*hash);
  }
  Status s = create ? store_->AddUser(user)
                    : store_->UpdateUser(user, /*end_sessions=*/password->has_value());
  if (!s.ok()) return StatusResponse(s);
  return JsonResponse(create ? 201 : 200, [&](JsonWriter& w) { WriteUser(w, user); });
}

HttpResponse Api::ListWebhooks(const AdminCall&) {
  Result<std::vector<WebhookRow>> all = store_->ListWebhooks();
  if (!all.ok()) return StatusResponse(all.status());
  return JsonResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("org_sign_key");  // what receivers verify X-Canvass-Signature with
    WriteString(w, ToHex(keys_.sign.public_key()));
    w.Key("webhooks");
    w.StartArray();
    for (const WebhookRow& h : *all) {
      w.StartObject();
      WriteWebhook(w, h);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

HttpResponse Api::AddWebhook(const AdminCall& call) {
  Result<rapidjson::Document> doc = ParseJsonBody(call.request.body);
  if (!doc.ok()) return StatusResponse(doc.status());
  Result<std::optional<std::string>> url = OptionalString(*doc, "url");
  if (!url.ok()) return StatusResponse(url.status());
  if (Result<WebhookUrl> parsed = ParseWebhookUrl(url->value_or("")); !parsed.ok()) {
    return StatusResponse(parsed.status());
  }
  std::uint8_t raw[6];
  RandomBytes(raw, sizeof raw);
  WebhookRow hook{"wh-" + ToHex(raw, sizeof raw), **url, now_ms_()};
  if (Status s = store_->AddWebhook(hook); !s.ok()) return StatusResponse(s);
  return JsonResponse(201, [&](JsonWriter& w) {
    w.StartObject();
    WriteWebhook(w, hook);
    w.Key("org_sign_key");
    WriteString(w, ToHex(keys_.sign.public_key()));
    w.EndObject();
  });
}

HttpResponse Api::ListDeliveries(const AdminCall& call) {
  const std::string state = QueryValue(call.request, "state");
  if (!state.empty() && state != "pending" && state != "delivered" && state != "failed") {
    return ErrorResponse(400, "invalid_argument", "state: pending, delivered or failed");
  }
  Result<std::vector<DeliveryRow>> all = store_->ListDeliveries(state, kMaxListLimit);
  if (!all.ok()) return StatusResponse(all.status());
  return JsonResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("deliveries");
    w.StartArray();
    for (const DeliveryRow& d : *all) {
      w.StartObject();
      w.Key("id");
      WriteString(w, d.event_id + "@" + d.webhook_id);  // X-Canvass-Delivery
      w.Key("event");
      WriteString(w, d.event_id);
      w.Key("type");
      WriteString(w, d.type);
      w.Key("webhook");
      WriteString(w, d.webhook_id);
      w.Key("state");
      WriteString(w, d.state);
      w.Key("attempts");
      w.Uint(d.attempts);
      w.Key("last_status");
      w.Int(d.last_status);
      w.Key("last_error");
      WriteString(w, d.last_error);
      w.Key("next_ms");
      w.Int64(d.next_ms);
      w.Key("created_ms");
      w.Int64(d.created_ms);
      w.Key("delivered_ms");
      if (d.delivered_ms) {
        w.Int64(*d.delivered_ms);
      } else {
        w.Null();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

HttpResponse Api::DeleteWebhook(const AdminCall& call) {
  Status s = store_->DeleteWebhook(call.params[0]);
  return s.ok() ? NoContent() : StatusResponse(s);
}

}  // namespace canvass::server
