# Warnings and sanitizers for every target in the project.
set(ACU_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wformat-security
  -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
  -Wpointer-arith -Wcast-align -Wwrite-strings -Wundef -Wvla
  -Wnull-dereference -Wimplicit-fallthrough -Wno-unused-parameter)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  list(APPEND ACU_WARNINGS -Wlogical-op -Wduplicated-cond -Wjump-misses-init)
endif()
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
  # valgrind 3.19 cannot read clang 14's default DWARF 5.
  add_compile_options(-gdwarf-4)
endif()
if(ACU_WERROR)
  list(APPEND ACU_WARNINGS -Werror)
endif()
add_compile_options(${ACU_WARNINGS})
add_compile_definitions(_POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)

if(ACU_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
