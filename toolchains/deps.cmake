# Finds the dependencies of canvass_core for the target being built and defines one interface
# target per dependency: canvass::sodium, canvass::headers (cereal, rapidjson), canvass::catch2.
#
# Native: Debian's libsodium-dev (pkg-config) and the header-only packages in /usr/include.
# wasm:   libsodium built by toolchains/build-wasm-deps.sh into CANVASS_WASM_DEPS; the header-only
#         libraries are exposed through a directory of symlinks in the build tree, because adding
#         -I/usr/include would pull the host's libc headers into Emscripten's sysroot.

add_library(canvass_sodium INTERFACE)
add_library(canvass::sodium ALIAS canvass_sodium)
add_library(canvass_headers INTERFACE)
add_library(canvass::headers ALIAS canvass_headers)
add_library(canvass_catch2 INTERFACE)
add_library(canvass::catch2 ALIAS canvass_catch2)

foreach(header_dir cereal rapidjson catch2)
  if(NOT EXISTS /usr/include/${header_dir})
    message(FATAL_ERROR "/usr/include/${header_dir} is missing: run toolchains/setup.sh first")
  endif()
endforeach()

if(EMSCRIPTEN)
  set(CANVASS_WASM_DEPS "$ENV{HOME}/.cache/canvass/wasm-deps-v2" CACHE PATH
      "Prefix of the wasm32 builds of libsodium and Dear ImGui (toolchains/build-wasm-deps.sh)")
  if(NOT EXISTS "${CANVASS_WASM_DEPS}/lib/libsodium.a")
    message(FATAL_ERROR "No wasm32 libsodium in ${CANVASS_WASM_DEPS}: run toolchains/setup.sh "
                        "(or pass -DCANVASS_WASM_DEPS=<prefix>)")
  endif()
  target_include_directories(canvass_sodium SYSTEM INTERFACE "${CANVASS_WASM_DEPS}/include")
  target_link_libraries(canvass_sodium INTERFACE "${CANVASS_WASM_DEPS}/lib/libsodium.a")

  set(sysdeps "${CMAKE_BINARY_DIR}/sysdeps/include")
  file(MAKE_DIRECTORY "${sysdeps}")
  foreach(header_dir cereal rapidjson catch2)
    file(CREATE_LINK /usr/include/${header_dir} "${sysdeps}/${header_dir}" SYMBOLIC)
  endforeach()
  target_include_directories(canvass_headers SYSTEM INTERFACE "${sysdeps}")
  target_include_directories(canvass_catch2 SYSTEM INTERFACE "${sysdeps}")

  # Dear ImGui 1.86 (canvass::imgui), compiled here from the sources the recipe copied out of
  # Debian's source package, so that it gets this build's flags: optimised for size (the widget
  # is downloaded by every visitor), without the demo and metrics windows and file functions
  # (no imgui.ini: layouts are computed every frame), in the same exception mode as the rest.
  set(imgui_dir "${CANVASS_WASM_DEPS}/imgui")
  if(NOT EXISTS "${imgui_dir}/imgui.cpp")
    message(FATAL_ERROR "No Dear ImGui sources in ${imgui_dir}: run toolchains/setup.sh")
  endif()
  add_library(canvass_imgui STATIC
    "${imgui_dir}/imgui.cpp" "${imgui_dir}/imgui_draw.cpp" "${imgui_dir}/imgui_tables.cpp"
    "${imgui_dir}/imgui_widgets.cpp" "${imgui_dir}/backends/imgui_impl_glfw.cpp"
    "${imgui_dir}/backends/imgui_impl_opengl3.cpp")
  add_library(canvass::imgui ALIAS canvass_imgui)
  target_include_directories(canvass_imgui SYSTEM PUBLIC "${imgui_dir}")
  target_compile_definitions(canvass_imgui PUBLIC IMGUI_DISABLE_OBSOLETE_FUNCTIONS
                             IMGUI_DISABLE_DEMO_WINDOWS IMGUI_DISABLE_METRICS_WINDOW
                             IMGUI_DISABLE_FILE_FUNCTIONS)
  # -flto: the widget links it with link-time optimisation (wasm/CMakeLists.txt).
  target_compile_options(canvass_imgui PRIVATE -Oz -flto -w)  # not our code: no warnings
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
  target_link_libraries(canvass_sodium INTERFACE PkgConfig::SODIUM)
endif()
