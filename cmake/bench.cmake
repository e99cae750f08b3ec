# Benchmark tools (bench/README.md), built in every build so `make test` can
# smoke-test them: the load generator (a WebSocket client of podterm's exec API)
# and the same-run baselines (raw PTY / pipe ceilings, echo round trip, spawn rate,
# and the output generator sessions run).
add_executable(podterm-loadgen
  ${CMAKE_SOURCE_DIR}/bench/loadgen.c ${CMAKE_SOURCE_DIR}/bench/lg_conn.c
  ${CMAKE_SOURCE_DIR}/bench/lg_raw.c ${CMAKE_SOURCE_DIR}/bench/lg_lws.c)
target_link_libraries(podterm-loadgen PRIVATE PkgConfig::LWS PkgConfig::SSL PkgConfig::ZLIB)

add_executable(podterm-baseline ${CMAKE_SOURCE_DIR}/bench/baseline.c)
target_link_libraries(podterm-baseline PRIVATE PkgConfig::ZLIB)

# The Prometheus registry's update costs, timed in isolation (bench/metrics_cost.c).
add_executable(podterm-metrics-cost ${CMAKE_SOURCE_DIR}/bench/metrics_cost.c)
target_link_libraries(podterm-metrics-cost PRIVATE podterm_metrics)
