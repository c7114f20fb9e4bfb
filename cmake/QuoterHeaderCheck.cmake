# Self-contained public headers (after seastar's header check): every header under
# include/quoter/ is compiled alone, as the only line of its own translation unit, with the
# include paths, definitions and warning flags of the library that owns it. A header that leans
# on something an earlier include happened to pull in, or on a module its library does not link,
# fails here. Built by `cmake --build <dir> --target header-check` (tools/test runs it), not by
# the default build, so that everyday builds do not pay for about a hundred extra compilations.
#
# The header list is globbed on purpose (CONFIGURE_DEPENDS): a new header is checked without
# anyone having to remember to list it.

# A header's library: the library of src/<module>/ whose sources hold the .cpp of the same name
# (so a module's second library, such as quoter_engine_live for paper_session.hpp, owns its own
# headers), else quoter_<module>. Exceptions, where neither rule finds it:
set(QUOTER_HEADER_OWNERS
    "quoter/bench/suite.hpp=quoter_bench_suites"
)

# The library of ${module_dir} that compiles ${name}.cpp, or empty.
function(quoter_library_of_source module_dir name out)
    set(${out} "" PARENT_SCOPE)
    if(NOT IS_DIRECTORY ${module_dir})
        return()
    endif()
    get_property(targets DIRECTORY ${module_dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(target IN LISTS targets)
        get_target_property(type ${target} TYPE)
        if(type STREQUAL "STATIC_LIBRARY")
            get_target_property(sources ${target} SOURCES)
            if("${name}.cpp" IN_LIST sources)
                set(${out} ${target} PARENT_SCOPE)
                return()
            endif()
        endif()
    endforeach()
endfunction()

function(quoter_add_header_check)
    set(include_root ${PROJECT_SOURCE_DIR}/include)
    file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE ${include_root}
         ${include_root}/quoter/*.hpp)
    list(SORT headers)

    set(owners "")
    foreach(header IN LISTS headers)
        string(REGEX REPLACE "^quoter/([a-z_]+)/.*$" "\\1" module "${header}")
        get_filename_component(name ${header} NAME_WE)
        quoter_library_of_source(${PROJECT_SOURCE_DIR}/src/${module} ${name} owner)
        if(NOT owner)
            set(owner quoter_${module})
        endif()
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
