# `cmake --install build --component python`, last step: makes `import videoprism`
# work in a fresh shell by writing videoprism.pth (one line: the directory that
# holds the installed package) into Python's site directory:
#   - always for the interpreter the package was built for (Debian's
#     /usr/bin/python3: /usr/local/lib/python3.X/dist-packages);
#   - also for the `python3` first on PATH when it is another interpreter of the
#     same major.minor (same extension ABI), e.g. a pyenv Python.
# Skipped under DESTDIR (staged installs). VP_PY_PACKAGE_PARENT and
# VP_PY_INTERPRETER are set by the install(CODE) before this script.
if(DEFINED ENV{DESTDIR} AND NOT "$ENV{DESTDIR}" STREQUAL "")
  message(STATUS "videoprism.pth: DESTDIR set, not writing into site directories")
  return()
endif()

set(vp_code "import sys, sysconfig; print('%d.%d' % sys.version_info[:2]); print(sysconfig.get_path('purelib'))")
set(vp_done "")
set(vp_interpreters "${VP_PY_INTERPRETER}")
find_program(vp_path_python python3 NO_CACHE)
if(vp_path_python)
  list(APPEND vp_interpreters "${vp_path_python}")
endif()
set(vp_want_version "")
foreach(py IN LISTS vp_interpreters)
  execute_process(COMMAND "${py}" -c "${vp_code}" OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0)
    continue()
  endif()
  string(STRIP "${out}" out)
  string(REPLACE "\n" ";" out "${out}")
  list(GET out 0 version)
  list(GET out 1 site)
  if(vp_want_version STREQUAL "")
    set(vp_want_version "${version}")
  elseif(NOT version STREQUAL vp_want_version)
    message(STATUS "videoprism.pth: ${py} is Python ${version}, the package is built for ${vp_want_version}; skipped")
    continue()
  endif()
  list(FIND vp_done "${site}" seen)
  if(NOT seen EQUAL -1)
    continue()
  endif()
  list(APPEND vp_done "${site}")
  file(MAKE_DIRECTORY "${site}")
  file(WRITE "${site}/videoprism.pth" "${VP_PY_PACKAGE_PARENT}\n")
  message(STATUS "Installing: ${site}/videoprism.pth -> ${VP_PY_PACKAGE_PARENT} (for ${py})")
endforeach()
