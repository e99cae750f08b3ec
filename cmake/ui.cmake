# The web terminal, compiled into the binary.
#
#   web/src, web/index.html, ...  --(npm ci if needed; tsc --noEmit; esbuild)-->  <build>/web/dist
#   <build>/web/dist  --(tools/embed.c: gzip -9, SHA-256 ETag)-->  <build>/ui_assets.c
#
# The bundle goes to the build directory, not web/dist, so two build trees
# (build/, build-asan/) never write the same files. `npm run build` in web/
# still writes web/dist for working on the UI alone.
#
# -DPODTERM_UI=OFF builds an empty asset table (the server then answers 404 at /)
# for machines without node; the product is always built with it ON.
option(PODTERM_UI "Bundle the web terminal (needs node and npm)" ON)

set(PODTERM_UI_ASSETS_C ${CMAKE_BINARY_DIR}/ui_assets.c)

if(NOT PODTERM_UI)
  file(WRITE ${PODTERM_UI_ASSETS_C}
    "#include \"api/ui_assets.h\"\nconst struct ui_asset ui_assets[] = {{0}};\n")
  list(APPEND PODTERM_GENERATED_SOURCES ${PODTERM_UI_ASSETS_C})
  return()
endif()

find_program(PODTERM_NPM npm)
find_program(PODTERM_NODE node)
if(NOT PODTERM_NPM OR NOT PODTERM_NODE)
  message(FATAL_ERROR "The web UI needs node and npm: run scripts/deps.sh (or configure "
                      "with -DPODTERM_UI=OFF to build without the UI)")
endif()

set(PODTERM_WEB_DIR ${CMAKE_SOURCE_DIR}/web)
set(PODTERM_UI_DIST ${CMAKE_BINARY_DIR}/web/dist)
set(PODTERM_UI_STAMP ${CMAKE_BINARY_DIR}/web/dist.stamp)

file(GLOB_RECURSE PODTERM_WEB_SOURCES CONFIGURE_DEPENDS
  ${PODTERM_WEB_DIR}/src/*.ts ${PODTERM_WEB_DIR}/src/*.css ${PODTERM_WEB_DIR}/static/*)
list(APPEND PODTERM_WEB_SOURCES
  ${PODTERM_WEB_DIR}/index.html ${PODTERM_WEB_DIR}/build.mjs ${PODTERM_WEB_DIR}/tsconfig.json
  ${PODTERM_WEB_DIR}/package.json ${PODTERM_WEB_DIR}/package-lock.json)

# npm ci only when node_modules is missing or older than the lockfile (the same
# test scripts/deps.sh makes), then typecheck and bundle.
add_custom_command(
  OUTPUT ${PODTERM_UI_STAMP}
  COMMAND sh -c "if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi"
  COMMAND ${PODTERM_NPM} run --silent typecheck
  COMMAND ${PODTERM_NODE} build.mjs --outdir ${PODTERM_UI_DIST}
  COMMAND ${CMAKE_COMMAND} -E touch ${PODTERM_UI_STAMP}
  DEPENDS ${PODTERM_WEB_SOURCES}
  WORKING_DIRECTORY ${PODTERM_WEB_DIR}
  COMMENT "Bundling the web terminal (web/ -> web/dist)"
  VERBATIM)

# A host tool: none of the sanitizer or fuzzer flags the rest of the tree gets.
add_executable(podterm_embed ${CMAKE_SOURCE_DIR}/tools/embed.c)
set_property(TARGET podterm_embed PROPERTY COMPILE_OPTIONS -Wall -Wextra -Werror)
set_property(TARGET podterm_embed PROPERTY LINK_OPTIONS "")
target_link_libraries(podterm_embed PRIVATE PkgConfig::ZLIB PkgConfig::SSL)

add_custom_command(
  OUTPUT ${PODTERM_UI_ASSETS_C}
  COMMAND podterm_embed ${PODTERM_UI_ASSETS_C} ${PODTERM_UI_DIST}
  DEPENDS podterm_embed ${PODTERM_UI_STAMP}
  COMMENT "Compiling the web terminal into ui_assets.c"
  VERBATIM)

list(APPEND PODTERM_GENERATED_SOURCES ${PODTERM_UI_ASSETS_C})
