// `canvass-server backup` and `canvass-server restore`: one file that holds everything a data
// directory needs to come back — the organisation keys, the initial admin token if it is still
// there, and a consistent copy of the SQLite database taken while the server runs (VACUUM INTO).
// The file format is in docs/operations.md ("Backup file format").
#pragma once

namespace canvass::server {

// canvass-server backup --data DIR --out FILE. `argv` starts after "backup". Exit code.
int BackupCommand(int argc, char** argv);
// canvass-server restore --data DIR --in FILE [--force]. `argv` starts after "restore".
int RestoreCommand(int argc, char** argv);

}  // namespace canvass::server
