// The schema, one definition for every dialect (SqlDialect::Schema spells the types), as
// versioned migrations applied in order; schema_version holds how many ran. Survey definitions are
// {JSON}: BYTEA on PostgreSQL, so that the JSON bytes whose hash is the version come back exactly
// whatever the database encoding.
#include <iterator>

#include "storage/sql.h"

namespace canvass::server {
namespace {

const char* const kMigrations[] = {
    R"(CREATE TABLE settings(key TEXT PRIMARY KEY, value {BLOB} NOT NULL);
       CREATE TABLE sessions(token_hash {BLOB} PRIMARY KEY, expires_ms {INT} NOT NULL);
       CREATE TABLE enroll_codes(code_hash {BLOB} PRIMARY KEY, location TEXT NOT NULL,
                                 channel TEXT NOT NULL, expires_ms {INT} NOT NULL,
                                 used_ms {INT});
       CREATE TABLE devices(device_id TEXT PRIMARY KEY, location TEXT NOT NULL,
                            channel TEXT NOT NULL, public_key {BLOB} NOT NULL,
                            web {BOOL} NOT NULL, certificate {BLOB} NOT NULL,
                            enrolled_ms {INT} NOT NULL, revoked_ms {INT},
                            head_seq {INT} NOT NULL DEFAULT 0, head_hash {BLOB} NOT NULL);
       CREATE TABLE records(device_id TEXT NOT NULL, seq {INT} NOT NULL, hash {BLOB} NOT NULL,
                            envelope {BLOB} NOT NULL, stored_ms {INT} NOT NULL,
                            PRIMARY KEY(device_id, seq)){WITHOUT_ROWID};
       CREATE TABLE quarantine(id {SERIAL_KEY}, device_id TEXT NOT NULL,
                               seq {INT} NOT NULL, reason TEXT NOT NULL,
                               envelope {BLOB} NOT NULL, received_ms {INT} NOT NULL);
       CREATE TABLE surveys({ROW_ID}survey_id TEXT NOT NULL, version {BLOB} NOT NULL,
                            revision {INT} NOT NULL, definition {JSON} NOT NULL,
                            bundle {BLOB} NOT NULL, locations TEXT NOT NULL,
                            published_ms {INT} NOT NULL, PRIMARY KEY(survey_id, version));)",
    // 2: projections (store.h): registered names, the queue of records each has still to see,
    // and their key-value state.
    R"(CREATE TABLE projections(name TEXT PRIMARY KEY);
       CREATE TABLE projection_queue(projection TEXT NOT NULL, device_id TEXT NOT NULL,
                                     seq {INT} NOT NULL,
                                     PRIMARY KEY(projection, device_id, seq)){WITHOUT_ROWID};
       CREATE TABLE derived_values(projection TEXT NOT NULL, key {BLOB} NOT NULL,
                                   value {BLOB} NOT NULL,
                                   PRIMARY KEY(projection, key)){WITHOUT_ROWID};)",
    // 3: the closed loop (cases.h): user accounts and sessions bound to them ('' is the admin
    // password), follow-up cases and their notes, webhooks, and the outbox of webhook events with
    // one delivery row per webhook.
    R"(CREATE TABLE users(name TEXT PRIMARY KEY, role TEXT NOT NULL, locations TEXT NOT NULL,
                          password_hash TEXT NOT NULL, created_ms {INT} NOT NULL);
       ALTER TABLE sessions ADD COLUMN user_name TEXT NOT NULL DEFAULT '';
       CREATE TABLE cases(case_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq {INT} NOT NULL,
                          survey_id TEXT NOT NULL, location TEXT NOT NULL,
                          question TEXT NOT NULL, metric TEXT NOT NULL, score {INT} NOT NULL,
                          scale_min {INT} NOT NULL, scale_max {INT} NOT NULL,
                          state TEXT NOT NULL, category TEXT NOT NULL, assignee TEXT NOT NULL,
                          sealed_contact {BLOB} NOT NULL, responded_ms {INT} NOT NULL,
                          opened_ms {INT} NOT NULL, due_ms {INT} NOT NULL,
                          updated_ms {INT} NOT NULL, escalated_ms {INT},
                          resolved_ms {INT}, revision {INT} NOT NULL);
       CREATE INDEX cases_by_due ON cases(due_ms);
       CREATE INDEX cases_by_location ON cases(location, due_ms);
       CREATE TABLE case_notes(case_id TEXT NOT NULL, revision {INT} NOT NULL,
                               author TEXT NOT NULL, time_ms {INT} NOT NULL, text TEXT NOT NULL,
                               PRIMARY KEY(case_id, revision)){WITHOUT_ROWID};
       CREATE TABLE webhooks(webhook_id TEXT PRIMARY KEY, url TEXT NOT NULL,
                             created_ms {INT} NOT NULL);
       CREATE TABLE webhook_events(event_id TEXT PRIMARY KEY, type TEXT NOT NULL,
                                   case_id TEXT NOT NULL, body {BLOB} NOT NULL,
                                   created_ms {INT} NOT NULL);
       CREATE TABLE webhook_deliveries(event_id TEXT NOT NULL, webhook_id TEXT NOT NULL,
                                       state TEXT NOT NULL, attempts {INT} NOT NULL,
                                       next_ms {INT} NOT NULL, last_status {INT} NOT NULL,
                                       last_error TEXT NOT NULL, delivered_ms {INT},
                                       PRIMARY KEY(event_id, webhook_id)){WITHOUT_ROWID};
       CREATE INDEX deliveries_due ON webhook_deliveries(state, next_ms);)",
    // 4: inbound messages (the SMS gateway's message ids), so that a gateway's retry is stored
    // once; the record that holds the message is (device_id, seq).
    R"(CREATE TABLE inbound_messages(channel TEXT NOT NULL, message_id TEXT NOT NULL,
                                     device_id TEXT NOT NULL, seq {INT} NOT NULL,
                                     received_ms {INT} NOT NULL,
                                     PRIMARY KEY(channel, message_id)){WITHOUT_ROWID};)",
};

}  // namespace

Status MigrateSchema(SqlDb& db) {
  const SqlDialect& d = db.dialect();
  const std::string what = "schema migration";
  return db.Transact(what, [&](SqlConn& c, bool& commit) -> Status {
    if (*d.schema_lock) {
      if (Status s = c.Query(d.schema_lock, {}, what, [](const SqlRow&) {}); !s.ok()) return s;
    }
    Status s = c.Script(
        d.Schema("CREATE TABLE IF NOT EXISTS schema_version(version {INT} NOT NULL)"), what);
    if (!s.ok()) return s;
    std::int64_t version = 0;
    s = c.Query("SELECT version FROM schema_version", {}, what,
                [&](const SqlRow& row) { version = row.Int(0); });
    if (!s.ok()) return s;
    const std::int64_t latest = std::size(kMigrations);
    if (version > latest) {
      return Status::InvalidArgument("the database has schema version " + std::to_string(version) +
                                     ", newer than this server (" + std::to_string(latest) +
                                     "): run the newer canvass-server");
    }
    commit = true;
    if (version == latest) return Status::Ok();
    for (std::int64_t v = version; v < latest; ++v) {
      s = c.Script(d.Schema(kMigrations[v]), what);
      if (!s.ok()) return s.WithContext("migration to schema version " + std::to_string(v + 1));
    }
    Result<std::uint64_t> done = c.Exec("DELETE FROM schema_version", {}, what);
    if (done.ok())
      done = c.Exec("INSERT INTO schema_version(version) VALUES (?)", {SqlArg::Int(latest)}, what);
    return done.ok() ? Status::Ok() : done.status();
  });
}

}  // namespace canvass::server
