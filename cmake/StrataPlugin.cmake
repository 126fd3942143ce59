# strata_add_plugin(NAME SOURCES... [LIBS libs...]): a plug-in that strata-node loads by
# name: the shared module libstrata_<NAME>.so, in lib/strata/plugins/ of the build tree and
# of the install. Only the C ABI of <strata/plugin_abi.h> crosses into the node; whatever
# else the plug-in uses it links itself, and its own symbols stay hidden.
function(strata_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  set(target strata_plugin_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME strata_${name}
    LIBRARY_OUTPUT_DIRECTORY ${STRATA_PLUGIN_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target} PRIVATE strata::plugin_api ${ARG_LIBS} strata_warnings)
  # Static Strata and other archives linked in stay private to the plug-in, so they never
  # clash with strata-node's own copies.
  target_link_options(${target} PRIVATE -Wl,--no-undefined -Wl,--exclude-libs,ALL)
  install(TARGETS ${target} LIBRARY DESTINATION ${STRATA_PLUGIN_INSTALL_DIR})
endfunction()
