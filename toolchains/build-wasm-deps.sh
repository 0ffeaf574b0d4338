#!/usr/bin/env bash
# Builds the wasm32 dependencies from Debian's source packages with Debian's Emscripten:
#   libsodium 1.0.18  -> $PREFIX/{include,lib/libsodium.a}
#   Dear ImGui 1.86   -> $PREFIX/imgui/ (sources and backends, compiled by the wasm build)
# PREFIX is $CANVASS_CACHE/wasm-deps-<recipe version>, outside the repository. Each part is built
# once and marked with a stamp file; delete the folder to rebuild. Prints the prefix on its last line.
set -euo pipefail
recipe=2
cache=${CANVASS_CACHE:-$HOME/.cache/canvass}
prefix="$cache/wasm-deps-v$recipe"
work="$cache/wasm-src"
mkdir -p "$prefix" "$work"
export NODE_PATH=/usr/share/nodejs   # emcc's optimizer needs Debian's node-acorn

fetch_source() { # name -> extracted directory under $work
  local name=$1 dir
  dir=$(find "$work/$name" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n 1 || true)
  if [ -z "$dir" ]; then
    rm -rf "$work/$name"; mkdir -p "$work/$name"
    (cd "$work/$name" && apt-get source -q "$name" >/dev/null 2>"$work/$name.log") || {
      echo "build-wasm-deps: 'apt-get source $name' failed (see $work/$name.log);" \
           "is the deb-src entry from toolchains/setup.sh in place?" >&2; exit 1; }
    dir=$(find "$work/$name" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  fi
  echo "$dir"
}

# Emscripten builds its system libraries (libc, libc++ with exceptions, ...) on first use. Do it
# once, up front: a configure script probing a half-built cache fails with misleading errors.
if [ ! -f "$prefix/.emcc-warm.done" ]; then
  echo "build-wasm-deps: preparing Emscripten's system libraries (first use only, a few minutes)"
  warm=$(mktemp -d)
  printf 'int main(void){return 0;}\n' >"$warm/c.c"
  printf '#include <string>\n#include <stdexcept>\nint main(){try{throw std::runtime_error("x");}catch(...){}return (int)std::string("a").size();}\n' >"$warm/cc.cpp"
  (cd "$warm" && emcc -O2 c.c -o c.js && em++ -O2 -fexceptions cc.cpp -o cc.js \
     && em++ -O2 -fexceptions -sUSE_GLFW=3 -sMAX_WEBGL_VERSION=2 -sMIN_WEBGL_VERSION=2 cc.cpp -o gl.js) \
    >"$work/emcc-warm.log" 2>&1 || {
    echo "build-wasm-deps: emcc cannot build a test program; see $work/emcc-warm.log" >&2; exit 1; }
  rm -rf "$warm"
  touch "$prefix/.emcc-warm.done"
fi

if [ ! -f "$prefix/.libsodium.done" ]; then
  src=$(fetch_source libsodium)
  echo "build-wasm-deps: building libsodium for wasm32 in $src (about 2 minutes)"
  (
    cd "$src"
    [ -x configure ] || DO_NOT_UPDATE_CONFIG_SCRIPTS=1 ./autogen.sh -s >"$work/libsodium-autogen.log" 2>&1
    emconfigure ./configure --host=wasm32-unknown-emscripten --prefix="$prefix" \
      --disable-shared --enable-static --without-pthreads --disable-ssp --disable-asm \
      CFLAGS="-O2" >"$work/libsodium-configure.log" 2>&1
    emmake make -j"$(nproc)" >"$work/libsodium-make.log" 2>&1
    emmake make install >>"$work/libsodium-make.log" 2>&1
  ) || { echo "build-wasm-deps: libsodium build failed; logs in $work/libsodium-*.log" >&2; exit 1; }
  touch "$prefix/.libsodium.done"
fi

if [ ! -f "$prefix/.imgui.done" ]; then
  src=$(fetch_source imgui)
  echo "build-wasm-deps: copying Dear ImGui's sources from $src"
  # The sources only: the wasm build compiles them with its own flags (toolchains/deps.cmake).
  rm -rf "$prefix/imgui"; mkdir -p "$prefix/imgui/backends"
  cp "$src"/imconfig.h "$src"/imgui*.h "$src"/imgui*.cpp "$src"/imstb_*.h "$src/LICENSE.txt" "$prefix/imgui/"
  cp "$src"/backends/imgui_impl_glfw.* "$src"/backends/imgui_impl_opengl3* "$prefix/imgui/backends/"
  touch "$prefix/.imgui.done"
fi
echo "$prefix"
