// WebhookOutbox (storage/modules.h): webhooks, and the outbox of events with one delivery row per
// webhook. Deliveries are claimed with a lease (next_ms moved ahead); with several writers the
// claim skips rows another server is claiming right now (FOR UPDATE SKIP LOCKED).
#include "storage/modules.h"
#include "storage/readers.h"

namespace canvass::server {

using A = SqlArg;

Status WebhookOutbox::AddWebhook(const WebhookRow& w) {
  return db_
      .Exec("INSERT INTO webhooks(webhook_id, url, created_ms) VALUES (?, ?, ?)",
            {A::Text(w.webhook_id), A::Text(w.url), A::Int(w.created_ms)}, "add webhook")
      .status();
}

Result<std::vector<WebhookRow>> WebhookOutbox::ListWebhooks() {
  return QueryAll(
      db_, "SELECT webhook_id, url, created_ms FROM webhooks ORDER BY created_ms", {},
      "list webhooks", +[](const SqlRow& row) {
        return WebhookRow{row.Text(0), row.Text(1), row.Int(2)};
      });
}

Status WebhookOutbox::DeleteWebhook(const std::string& webhook_id) {
  if (!IsStorableText(webhook_id)) return Status::NotFound("no webhook '" + webhook_id + "'");
  return db_.Transact("delete webhook", [&](SqlConn& c, bool& commit) -> Status {
    Result<std::uint64_t> r = c.Exec("DELETE FROM webhook_deliveries WHERE webhook_id = ?",
                                     {A::Text(webhook_id)}, "delete webhook");
    if (r.ok()) {
      r = c.Exec("DELETE FROM webhooks WHERE webhook_id = ?", {A::Text(webhook_id)},
                 "delete webhook");
    }
    if (!r.ok()) return r.status();
    if (*r == 0) return Status::NotFound("no webhook '" + webhook_id + "'");
    commit = true;
    return Status::Ok();
  });
}

Result<std::vector<DeliveryRow>> WebhookOutbox::ClaimDeliveries(std::int64_t now_ms,
                                                                std::int64_t lease_until_ms,
                                                                std::uint32_t limit) {
  const std::string what = "claim webhook deliveries";
  const std::string claim = std::string(kDeliverySelect) +
                            "WHERE d.state = 'pending' AND d.next_ms <= ? "
                            "ORDER BY d.next_ms LIMIT ?" +
                            db_.dialect().ClaimRows("d");
  std::vector<DeliveryRow> out;
  Status s = db_.Transact(what, [&](SqlConn& c, bool& commit) -> Status {
    Result<std::vector<DeliveryRow>> due =
        QueryAll(c, claim, {A::Int(now_ms), A::Int(limit)}, what, ReadDelivery);
    if (!due.ok()) return due.status();
    out = std::move(*due);
    for (const DeliveryRow& d : out) {
      Result<std::uint64_t> lease =
          c.Exec("UPDATE webhook_deliveries SET next_ms = ? WHERE event_id = ? AND webhook_id = ?",
                 {A::Int(lease_until_ms), A::Text(d.event_id), A::Text(d.webhook_id)}, what);
      if (!lease.ok()) return lease.status();
    }
    commit = true;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Status WebhookOutbox::FinishDelivery(const DeliveryRow& d) {
  return db_
      .Exec(
          "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_ms = ?, "
          "last_status = ?, last_error = ?, delivered_ms = ? "
          "WHERE event_id = ? AND webhook_id = ?",
          {A::Text(d.state), A::Int(d.attempts), A::Int(d.next_ms), A::Int(d.last_status),
           A::Text(d.last_error), A::OptInt(d.delivered_ms), A::Text(d.event_id),
           A::Text(d.webhook_id)},
          "record webhook delivery")
      .status();
}

Result<std::vector<DeliveryRow>> WebhookOutbox::ListDeliveries(const std::string& state,
                                                               std::uint32_t limit) {
  return QueryAll(db_,
                  std::string(kDeliverySelect) +
                      "WHERE (? = '' OR d.state = ?) ORDER BY e.created_ms DESC, d.event_id "
                      "LIMIT ?",
                  {A::Text(state), A::Text(state), A::Int(limit)}, "list webhook deliveries",
                  ReadDelivery);
}

Status WebhookOutbox::Enqueue(SqlConn& txn, const CaseEvent& e) {
  Result<std::uint64_t> r = txn.Exec(
      "INSERT INTO webhook_events(event_id, type, case_id, body, created_ms) "
      "VALUES (?, ?, ?, ?, ?)",
      {A::Text(e.event_id), A::Text(e.type), A::Text(e.case_id), A::Blob(e.body),
       A::Int(e.created_ms)},
      "queue webhook event");
  if (!r.ok()) return r.status();
  return txn
      .Exec(
          "INSERT INTO webhook_deliveries(event_id, webhook_id, state, attempts, next_ms, "
          "last_status, last_error) SELECT ?, webhook_id, 'pending', 0, ?, 0, '' FROM webhooks",
          {A::Text(e.event_id), A::Int(e.created_ms)}, "queue webhook deliveries")
      .status();
}

}  // namespace canvass::server
