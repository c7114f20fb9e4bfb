# Build flags shared by every quoter target: warnings, architecture, sanitizers.
# Targets opt in by linking quoter::build_options (PRIVATE); nothing is set globally.

add_library(quoter_build_options INTERFACE)
add_library(quoter::build_options ALIAS quoter_build_options)

target_compile_options(quoter_build_options INTERFACE -Wall -Wextra -Wpedantic)
if(QUOTER_WERROR)
    target_compile_options(quoter_build_options INTERFACE -Werror)
endif()

if(QUOTER_NATIVE)
    target_compile_options(quoter_build_options INTERFACE -march=native)
else()
    target_compile_options(quoter_build_options INTERFACE -march=x86-64-v2)
endif()

if(QUOTER_SANITIZE)
    target_compile_options(quoter_build_options INTERFACE
        -fsanitize=${QUOTER_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(quoter_build_options INTERFACE -fsanitize=${QUOTER_SANITIZE})
endif()

# Compile options of the modules the trading loop runs through on every event (engine, exec):
# target_compile_options(<target> PRIVATE ${QUOTER_HOT_PATH_OPTIONS}). Their virtual calls (the
# order gateway and its decorators, report sinks, risk callbacks) reach a different class in each
# mode, and GCC's speculative devirtualization guards each one with a guess from the classes the
# unit can see, mostly wrong (run_recorder::poll() guesses that the venue it forwards to is another
# run_recorder, several levels deep), so the step pays the guards' compares and the indirect call
# anyway. Without it the synthetic backtest step runs about 11 instructions fewer (callgrind).
set(QUOTER_HOT_PATH_OPTIONS $<$<CXX_COMPILER_ID:GNU>:-fno-devirtualize-speculatively>)

# quoter_add_module(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# Declares the static library quoter_<name> with alias quoter::<name>; public headers live in
# include/quoter/<name>/.
function(quoter_add_module name)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
    add_library(quoter_${name} STATIC ${ARG_SOURCES})
    add_library(quoter::${name} ALIAS quoter_${name})
    target_include_directories(quoter_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                              PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(quoter_${name} PUBLIC ${ARG_DEPS}
                                         PRIVATE quoter::build_options ${ARG_PRIVATE_DEPS})
endfunction()
