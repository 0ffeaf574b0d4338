# Content-hashed widget files (docs/widget.md, Caching): copies the files a visitor's browser loads
# for the survey widget into ${SITE}/canvass/v-<hash>/, where <hash> is the first 16 hex digits of
# a SHA-256 over their contents, and names that folder in the loader (${SITE}/canvass.js) and the
# kiosk's service worker (${SITE}/kiosk/sw.js) at their `canvass:dir` / `canvass:version` marks.
# canvass-server serves such a folder `immutable` for a year, and the loader for minutes: a warm
# visit asks for nothing but (at most) the loader. Older v-* folders are removed. Run as
#   cmake -DSITE=<site dir> -P version_site.cmake
# on every build; it rewrites nothing whose content stays the same (ETags follow mtimes).
set(files canvass-widget.js canvass-widget.wasm widget.js canvas.js semantics.js font.ttf)
set(all "")
foreach(f ${files})
  if(NOT EXISTS "${SITE}/canvass/${f}")
    message(FATAL_ERROR "version_site: ${SITE}/canvass/${f} is missing")
  endif()
  file(SHA256 "${SITE}/canvass/${f}" h)
  string(APPEND all "${f}:${h}\n")
endforeach()
string(SHA256 hash "${all}")
string(SUBSTRING "${hash}" 0 16 hash)
set(dir "v-${hash}")

file(GLOB old LIST_DIRECTORIES true "${SITE}/canvass/v-*")
foreach(o ${old})
  if(NOT o STREQUAL "${SITE}/canvass/${dir}")
    file(REMOVE_RECURSE "${o}")
  endif()
endforeach()
file(MAKE_DIRECTORY "${SITE}/canvass/${dir}")
foreach(f ${files})
  # copy_if_different keeps the mtime (and so the ETag) of a file that did not change.
  execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${SITE}/canvass/${f}"
                          "${SITE}/canvass/${dir}/${f}")
endforeach()

# Rewrites `file`'s marked line: 'canvass/...' // canvass:dir and '...' // canvass:version.
function(mark_version file)
  file(READ "${file}" text)
  set(was "${text}")
  string(REGEX REPLACE "'([./]*)canvass/[^']*';( *// canvass:dir)" "'\\1canvass/${dir}/';\\2" text "${text}")
  string(REGEX REPLACE "'[^']*';( *// canvass:version)" "'${hash}';\\1" text "${text}")
  if(NOT text STREQUAL was)
    file(WRITE "${file}" "${text}")
  endif()
endfunction()
mark_version("${SITE}/canvass.js")
if(EXISTS "${SITE}/kiosk/sw.js")
  mark_version("${SITE}/kiosk/sw.js")
endif()
