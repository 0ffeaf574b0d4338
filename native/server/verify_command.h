// `canvass-server verify`: re-checks every stored record against its device's enrolled key and
// chain, for records inserted or altered by someone with write access to the database (the push
// checks them once, as they arrive; nothing else re-reads their signatures).
#pragma once

namespace canvass::server {

// argv: the arguments after "verify". Exit 0: every record verifies; 1: problems (listed);
// 2: usage.
int VerifyCommand(int argc, char** argv);

}  // namespace canvass::server
