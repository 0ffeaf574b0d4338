# CMake toolchain for the wasm build: Debian's Emscripten 3.1.6 with the fixes this machine needs.
#   - node 20 refuses the `--experimental-wasm-threads` flag Emscripten's file would add to the
#     test emulator, and needs --no-experimental-fetch to run Emscripten 3.1.6 output;
#   - emcc -O1 and above run an optimizer that needs Debian's node-acorn, which node finds only
#     with NODE_PATH=/usr/share/nodejs: every compile and link goes through `env` to set it.
set(CMAKE_CROSSCOMPILING_EMULATOR "/usr/bin/node;--no-experimental-fetch"
    CACHE STRING "How CTest runs wasm test programs")
include(/usr/share/emscripten/cmake/Modules/Platform/Emscripten.cmake)
set(ENV{NODE_PATH} /usr/share/nodejs)
foreach(lang C CXX)
  set(CMAKE_${lang}_COMPILER_LAUNCHER env NODE_PATH=/usr/share/nodejs)
  set(CMAKE_${lang}_LINKER_LAUNCHER env NODE_PATH=/usr/share/nodejs)
endforeach()
