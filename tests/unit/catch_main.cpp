// The one Catch2 main of the core suite (native and wasm builds).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
