# The module graph as CMake built it, for tools/check-deps: every quoter library of src/ and
# bench/ with its folder, sources and quoter link dependencies (all, and those its users
# inherit), plus the headers owned by a module's second library (QUOTER_HEADER_OWNERS of
# QuoterHeaderCheck.cmake). tools/check-deps compares this and every #include with the allowed
# graph of docs/architecture.md; CTest runs it as the `module_dependencies` test.

function(quoter_export_module_graph output)
    get_property(subdirs DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTY SUBDIRECTORIES)
    set(text "")
    foreach(dir IN LISTS subdirs)
        file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
        if(NOT rel MATCHES "^(src/|bench$)")
            continue()
        endif()
        get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
        foreach(target IN LISTS targets)
            get_target_property(type ${target} TYPE)
            if(NOT type STREQUAL "STATIC_LIBRARY" OR NOT target MATCHES "^quoter_")
                continue()
            endif()
            get_target_property(sources ${target} SOURCES)
            get_target_property(links ${target} LINK_LIBRARIES)
            get_target_property(interface ${target} INTERFACE_LINK_LIBRARIES)
            # Only quoter libraries; PRIVATE dependencies appear in the interface as
            # $<LINK_ONLY:...>, which the filter drops.
            list(FILTER links INCLUDE REGEX "^quoter::")
            list(FILTER interface INCLUDE REGEX "^quoter::")
            list(REMOVE_ITEM links quoter::build_options)
            list(REMOVE_ITEM interface quoter::build_options)
            string(APPEND text "library ${target}\ndir ${rel}\nsources ${sources}\n"
                              "links ${links}\npublic ${interface}\n")
        endforeach()
    endforeach()
    foreach(entry IN LISTS QUOTER_HEADER_OWNERS)
        string(APPEND text "owner ${entry}\n")
    endforeach()
    file(CONFIGURE OUTPUT ${output} CONTENT "${text}")
endfunction()
