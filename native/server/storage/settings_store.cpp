// SettingsStore (storage/modules.h): settings, admin sessions and published surveys.
#include "storage/modules.h"
#include "storage/readers.h"

namespace canvass::server {

using A = SqlArg;

Result<std::optional<std::string>> SettingsStore::GetSetting(const std::string& key) {
  return QueryOne(db_, "SELECT value FROM settings WHERE key = ?", {A::Text(key)}, "read setting",
                  ReadText0);
}

Status SettingsStore::PutSetting(const std::string& key, const std::string& value) {
  return db_
      .Exec(
          "INSERT INTO settings(key, value) VALUES (?, ?) "
          "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
          {A::Text(key), A::Blob(value)}, "write setting")
      .status();
}

Status SettingsStore::AddSession(const Hash256& token_hash, std::int64_t expires_ms,
                                 const std::string& user) {
  return db_
      .Exec("INSERT INTO sessions(token_hash, expires_ms, user_name) VALUES (?, ?, ?)",
            {A::Blob(token_hash), A::Int(expires_ms), A::Text(user)}, "add session")
      .status();
}

Result<std::optional<std::string>> SettingsStore::FindSession(const Hash256& token_hash,
                                                              std::int64_t now_ms) {
  return QueryOne(db_, "SELECT user_name FROM sessions WHERE token_hash = ? AND expires_ms > ?",
                  {A::Blob(token_hash), A::Int(now_ms)}, "find session", ReadText0);
}

Status SettingsStore::EndSessionsBut(const std::string& user, const Hash256& keep) {
  return db_
      .Exec("DELETE FROM sessions WHERE user_name = ? AND token_hash <> ?",
            {A::Text(user), A::Blob(keep)}, "end sessions")
      .status();
}

Status SettingsStore::EndSession(const Hash256& token_hash) {
  return db_.Exec("DELETE FROM sessions WHERE token_hash = ?", {A::Blob(token_hash)}, "end session")
      .status();
}

Status SettingsStore::PublishSurvey(const SurveyRow& s) {
  const std::string locations = JoinLocations(s.locations);
  return db_
      .Exec(std::string("INSERT INTO surveys(") + kSurveyColumns +
                ") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(survey_id, version) DO NOTHING",
            {A::Text(s.survey_id), A::Blob(s.version), A::Int(s.revision),
             db_.dialect().json_as_blob ? A::Blob(s.definition) : A::Text(s.definition),
             A::Blob(s.bundle), A::Text(locations), A::Int(s.published_ms)},
            "publish survey")
      .status();
}

Result<std::vector<SurveyRow>> SettingsStore::ListSurveys() {
  return QueryAll(db_,
                  std::string("SELECT ") + kSurveyColumns +
                      " FROM surveys ORDER BY published_ms, " + db_.dialect().row_id,
                  {}, "list surveys", ReadSurvey);
}

}  // namespace canvass::server
