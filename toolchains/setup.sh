#!/usr/bin/env bash
# Installs everything Canvass needs on a fresh Debian 12 machine. Idempotent: safe to run again.
#   - Debian packages (compilers, libraries, Emscripten, test tools);
#   - a deb-src entry so that `apt-get source libsodium imgui` works;
#   - libsodium and Dear ImGui built for wasm32 from Debian's source packages, cached in
#     $CANVASS_CACHE (default ~/.cache/canvass), never inside the repository.
# Nothing is downloaded from anywhere but Debian's archive (and, for test tooling, npm).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

packages=(
  build-essential cmake ninja-build pkg-config clang-format dpkg-dev
  clang libclang-rt-14-dev
  libsodium-dev libcereal-dev rapidjson-dev catch2
  libsqlite3-dev sqlite3 libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev libpq-dev postgresql
  libphonenumber-dev
  emscripten autoconf automake libtool
  fonts-dejavu-core python3-fonttools chromium
  systemd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

src_list=/etc/apt/sources.list.d/canvass-deb-src.sources
if [ ! -f "$src_list" ]; then
  echo "setup: adding a deb-src entry ($src_list) so that 'apt-get source' works"
  $SUDO tee "$src_list" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  need_update=1
fi

if [ ${#missing[@]} -gt 0 ] || [ -n "${need_update:-}" ]; then
  echo "setup: apt-get update"
  $SUDO apt-get update -q
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

"$here/build-wasm-deps.sh"
