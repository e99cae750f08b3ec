# Placeholder until the web UI is bundled: an empty asset table so the server links.
set(PODTERM_UI_ASSETS_C ${CMAKE_BINARY_DIR}/ui_assets.c)
file(WRITE ${PODTERM_UI_ASSETS_C}
  "#include \"server/ui_assets.h\"\nconst struct ui_asset ui_assets[] = {{0}};\n")
list(APPEND PODTERM_GENERATED_SOURCES ${PODTERM_UI_ASSETS_C})
