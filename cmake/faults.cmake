# podterm-faults: podterm with its allocations routed through an injector that fails
# the N-th one (tests/faults/fault_alloc.c explains why a link-time wrap). Built with
# the tests; the `faults` suite of scripts/test.sh sweeps N over a scripted session.
if(PODTERM_TESTS)
  add_executable(podterm-faults ${CMAKE_SOURCE_DIR}/src/main.c
                                ${CMAKE_SOURCE_DIR}/tests/faults/fault_alloc.c)
  target_link_libraries(podterm-faults PRIVATE podterm_server)
  target_link_options(podterm-faults PRIVATE
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup,--wrap=asprintf
    -Wl,--wrap=vterm_new_with_allocator)
endif()
