# Self-contained public headers (after seastar's header check): every header under
# include/quoter/ is compiled alone, as the only line of its own translation unit, with the
# include paths, definitions and warning flags of the library that owns it. A header that leans
# on something an earlier include happened to pull in, or on a module its library does not link,
# fails here. Built by `cmake --build <dir> --target header-check` (tools/test runs it), not by
# the default build, so that everyday builds do not pay for about a hundred extra compilations.
#
# The header list is globbed on purpose (CONFIGURE_DEPENDS): a new header is checked without
# anyone having to remember to list it.

# Headers whose library is not quoter_<module>: the module's second, optional library.
set(QUOTER_HEADER_OWNERS
    "quoter/bench/suite.hpp=quoter_bench_suites"
    "quoter/engine/paper_session.hpp=quoter_engine_live"
    "quoter/exec/binance_spot_gateway.hpp=quoter_binance_gateway"
)

function(quoter_add_header_check)
    set(include_root ${PROJECT_SOURCE_DIR}/include)
    file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE ${include_root}
         ${include_root}/quoter/*.hpp)
    list(SORT headers)

    set(owners "")
    foreach(header IN LISTS headers)
        string(REGEX REPLACE "^quoter/([a-z_]+)/.*$" "\\1" module "${header}")
        set(owner quoter_${module})
        foreach(entry IN LISTS QUOTER_HEADER_OWNERS)
            if(entry MATCHES "^${header}=(.+)$")
                set(owner ${CMAKE_MATCH_1})
            endif()
        endforeach()
        if(NOT TARGET ${owner})
            message(FATAL_ERROR "header check: no library ${owner} for include/${header}")
        endif()
        set(source ${PROJECT_BINARY_DIR}/header_check/${header}.cpp)
        # file(CONFIGURE) rewrites only on change, so a reconfigure recompiles nothing.
        file(CONFIGURE OUTPUT ${source} CONTENT "#include \"${header}\"\n")
        list(APPEND sources_${owner} ${source})
        list(APPEND owners ${owner})
    endforeach()
    list(REMOVE_DUPLICATES owners)

    add_custom_target(header-check)
    foreach(owner IN LISTS owners)
        add_library(${owner}_header_check OBJECT EXCLUDE_FROM_ALL ${sources_${owner}})
        target_link_libraries(${owner}_header_check PRIVATE ${owner} quoter::build_options)
        add_dependencies(header-check ${owner}_header_check)
    endforeach()
endfunction()
