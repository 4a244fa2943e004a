# pv_module(NAME DEPS...): the object library pv_NAME from every .c file in
# the module's directory, with the public headers and the listed dependencies.
function(pv_module name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  if(NOT srcs)
    # An empty module still exists as a target, so the link line never changes shape.
    set(srcs ${CMAKE_SOURCE_DIR}/cmake/empty.c)
  endif()
  add_library(pv_${name} OBJECT ${srcs})
  target_include_directories(pv_${name} PUBLIC ${CMAKE_SOURCE_DIR}/include
                             PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(pv_${name} PUBLIC ${ARGN})
  add_dependencies(pv_${name} pv_schemas)
endfunction()
